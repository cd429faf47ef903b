// Calendar arithmetic for trace timestamps without locale or time-zone functions: days-from-civil
// (proleptic Gregorian) and a strict parser for "YYYY-MM-DD HH:MM:SS[.fraction]" as the Azure LLM
// traces write it. Times are taken as-is (no zone), which is all relative arrival times need.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace gpufleet {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; negative before 1970).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

struct CivilTimestamp {
  int64_t seconds = 0;  // since 1970-01-01 00:00:00
  int32_t nanos = 0;    // [0, 1e9); fraction digits past the 9th are checked but dropped

  bool operator<(const CivilTimestamp& o) const {
    return seconds < o.seconds || (seconds == o.seconds && nanos < o.nanos);
  }
  // Seconds from `earlier` to this, as a double.
  double SecondsSince(const CivilTimestamp& earlier) const {
    return static_cast<double>(seconds - earlier.seconds) + 1e-9 * (nanos - earlier.nanos);
  }
};

// Parses "YYYY-MM-DD HH:MM:SS" with an optional ".digits" fraction (any number of digits, at least
// one); 'T' is accepted in place of the space. Checks month, day-of-month (leap years), hour < 24,
// minute < 60, second < 60. False on anything else.
bool ParseCivilTimestamp(absl::string_view text, CivilTimestamp* out);

// "YYYY-MM-DD HH:MM:SS.fffffff" (7 fraction digits, as the Azure traces write them; 9 when the
// nanoseconds need them), for error messages about a row that is no longer in the read buffer.
std::string FormatCivilTimestamp(const CivilTimestamp& t);

}  // namespace gpufleet
