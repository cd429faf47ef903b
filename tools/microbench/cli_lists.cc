// List-flag parsing (see cli_lists.h).
#include "tools/microbench/cli_lists.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gpufleet::microbench {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::string s(part);
    size_t b = s.find_first_not_of(" \t");
    size_t e = s.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    out.push_back(s.substr(b, e - b + 1));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> ParseSizeList(const std::string& flag, const std::string& text) {
  std::vector<int64_t> out;
  for (const std::string& item : SplitList(text)) {
    std::string digits = item;
    int64_t scale = 1;
    const char suffix = digits.empty() ? '\0' : digits.back();
    if (suffix == 'K' || suffix == 'k') scale = int64_t{1} << 10;
    if (suffix == 'M' || suffix == 'm') scale = int64_t{1} << 20;
    if (suffix == 'G' || suffix == 'g') scale = int64_t{1} << 30;
    if (scale != 1) digits.pop_back();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || v <= 0 ||
        v > std::numeric_limits<int64_t>::max() / scale) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": '", item, "' is not a positive integer; expected e.g. 1,16,4K,64M"));
    }
    out.push_back(v * scale);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty list; expected e.g. 1,16,128"));
  return out;
}

absl::StatusOr<std::vector<int>> ParseIntList(const std::string& flag, const std::string& text) {
  absl::StatusOr<std::vector<int64_t>> v = ParseSizeList(flag, text);
  if (!v.ok()) return v.status();
  std::vector<int> out;
  for (int64_t x : *v) {
    if (x > 1'000'000) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", x, " is too large"));
    out.push_back(static_cast<int>(x));
  }
  return out;
}

absl::StatusOr<std::vector<double>> ParsePositiveList(const std::string& flag, const std::string& text) {
  std::vector<double> out;
  for (const std::string& item : SplitList(text)) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || ptr != item.data() + item.size() || !std::isfinite(v) || v <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": '", item, "' is not a positive number; expected e.g. 300,400"));
    }
    out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty list; expected e.g. 300,400"));
  return out;
}

absl::StatusOr<std::vector<OpGroup>> ParseOpGroups(const std::string& flag, const std::string& text) {
  std::vector<OpGroup> out;
  for (const std::string& item : SplitList(text)) {
    std::optional<OpGroup> g = ParseOpGroup(item);
    if (!g) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": unknown op group '", item, "'; expected gemm, attention, memory, collectives or launch"));
    }
    out.push_back(*g);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty list; expected e.g. gemm,memory"));
  return out;
}

absl::StatusOr<std::vector<Dtype>> ParseDtypes(const std::string& flag, const std::string& text) {
  std::vector<Dtype> out;
  for (const std::string& item : SplitList(text)) {
    std::optional<Dtype> d = ParseDtype(item);
    if (!d || *d == Dtype::kNone || *d == Dtype::kFp32) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": unknown dtype '", item, "'; expected fp16, bf16 or fp8"));
    }
    out.push_back(*d);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": empty list; expected e.g. fp16,bf16"));
  return out;
}

absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  for (const std::string& part : SplitList(text)) {
    std::string p = part;
    while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
    if (p.empty()) continue;
    const size_t dash = p.find('-');
    int lo = 0, hi = 0;
    if (!absl::SimpleAtoi(p.substr(0, dash), &lo) ||
        !absl::SimpleAtoi(dash == std::string::npos ? p : p.substr(dash + 1), &hi) || lo < 0 || hi < lo ||
        hi - lo > 1 << 16) {
      return absl::InvalidArgumentError(absl::StrCat("CPU list entry '", p, "'; expected N or N-M"));
    }
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  if (cpus.empty()) return absl::InvalidArgumentError("empty CPU list; expected e.g. 0-31,64-95");
  return cpus;
}

}  // namespace gpufleet::microbench
