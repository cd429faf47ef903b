#include "traces/csv_fields.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsBlankLine(absl::string_view line) { return Trim(line).empty(); }

int SplitCsvFields(absl::string_view line, absl::string_view* fields, int max_fields) {
  int n = 0;
  const char* p = line.data();
  const char* const end = p + line.size();
  for (;;) {
    const char* comma = static_cast<const char*>(std::memchr(p, ',', end - p));
    const char* field_end = comma != nullptr ? comma : end;
    if (n < max_fields) fields[n] = Trim(absl::string_view(p, field_end - p));
    ++n;
    if (comma == nullptr) return n;
    p = comma + 1;
  }
}

bool ParseUint64(absl::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseInt64(absl::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseFiniteDouble(absl::string_view text, double* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out, std::chars_format::general);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

std::string QuoteField(absl::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMax), "...'");
}

absl::Status TraceRowError(absl::string_view path, int64_t row, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", row, ": ", message));
}

}  // namespace gpufleet
