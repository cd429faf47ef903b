// Exact percentile computation (see percentile.h).
#include "sim/metrics/percentile.h"

#include <algorithm>
#include <cmath>

namespace gpufleet {

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const double h = (static_cast<double>(values.size()) - 1) * p / 100.0;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double x_lo = values[lo];
  if (hi == lo || h == static_cast<double>(lo)) return x_lo;
  // The next order statistic is the minimum of the upper partition.
  const double x_hi = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return x_lo + (h - static_cast<double>(lo)) * (x_hi - x_lo);
}

std::vector<double> WeightedPercentiles(std::vector<WeightedSample>& samples, const std::vector<double>& ps) {
  std::sort(samples.begin(), samples.end(),
            [](const WeightedSample& a, const WeightedSample& b) { return a.value < b.value; });
  uint64_t total = 0;
  for (const auto& s : samples) total += s.count;
  std::vector<double> out;
  for (double p : ps) {
    if (total == 0) {
      out.push_back(0);
      continue;
    }
    const double h = (static_cast<double>(total) - 1) * p / 100.0;
    const uint64_t lo = static_cast<uint64_t>(std::floor(h));
    const uint64_t hi = std::min<uint64_t>(lo + 1, total - 1);
    // Value at a 0-based rank: walk the cumulative counts.
    auto value_at = [&](uint64_t rank) {
      uint64_t seen = 0;
      for (const auto& s : samples) {
        seen += s.count;
        if (rank < seen) return s.value;
      }
      return samples.back().value;
    };
    const double x_lo = value_at(lo);
    const double x_hi = value_at(hi);
    out.push_back(x_lo + (h - static_cast<double>(lo)) * (x_hi - x_lo));
  }
  return out;
}

double WeightedPercentile(std::vector<WeightedSample>& samples, double p) {
  return WeightedPercentiles(samples, {p})[0];
}

}  // namespace gpufleet
