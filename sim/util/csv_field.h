// One CSV field as RFC 4180 writes it: quoted (with quotes doubled) only when it holds a comma, a quote
// or a newline. Shared by every CSV the CLI writes (validation points, sweep reports).
#pragma once

#include <string>

namespace gpufleet {

inline std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace gpufleet
