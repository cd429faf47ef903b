#include "traces/civil_time.h"

#include "absl/strings/str_format.h"

namespace gpufleet {
namespace {

inline bool Digits(const char* p, int n, unsigned* out) {
  unsigned v = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

inline bool IsLeap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(unsigned y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);                   // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;        // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseCivilTimestamp(absl::string_view text, CivilTimestamp* out) {
  // 0123456789012345678
  // YYYY-MM-DD HH:MM:SS
  if (text.size() < 19) return false;
  const char* p = text.data();
  unsigned y, mo, d, h, mi, s;
  if (!Digits(p, 4, &y) || p[4] != '-' || !Digits(p + 5, 2, &mo) || p[7] != '-' ||
      !Digits(p + 8, 2, &d) || (p[10] != ' ' && p[10] != 'T') || !Digits(p + 11, 2, &h) ||
      p[13] != ':' || !Digits(p + 14, 2, &mi) || p[16] != ':' || !Digits(p + 17, 2, &s)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return false;
  int32_t nanos = 0;
  if (text.size() > 19) {
    if (p[19] != '.' || text.size() == 20) return false;
    int32_t scale = 100000000;
    for (size_t i = 20; i < text.size(); ++i) {
      const unsigned digit = static_cast<unsigned char>(p[i]) - '0';
      if (digit > 9) return false;
      nanos += static_cast<int32_t>(digit) * scale;
      scale /= 10;  // 0 after the 9th digit: later digits are validated only
    }
  }
  out->seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  out->nanos = nanos;
  return true;
}

std::string FormatCivilTimestamp(const CivilTimestamp& t) {
  // Howard Hinnant's civil_from_days, the inverse of DaysFromCivil.
  const int64_t days = t.seconds >= 0 ? t.seconds / 86400 : (t.seconds - 86399) / 86400;
  const int64_t secs = t.seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  if (t.nanos % 100 == 0) {
    return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d.%07d", y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
                           t.nanos / 100);
  }
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d.%09d", y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
                         t.nanos);
}

}  // namespace gpufleet
