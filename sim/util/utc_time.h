// The current wall-clock time in UTC, formatted (strftime), for provenance fields that record when
// something was made (run databases, calibration profiles). Never used in simulation results.
#pragma once

#include <ctime>
#include <string>

namespace gpufleet {

inline std::string UtcNow(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  return std::strftime(buf, sizeof buf, format, &tm) > 0 ? buf : "";
}

}  // namespace gpufleet
