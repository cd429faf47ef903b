// Exact percentiles over all samples (no sketches), plain and weighted.
//
// Definition (numpy's default "linear"): with n sorted samples x[0..n-1], the p-th percentile is
// x[h] interpolated linearly at rank h = (n - 1) * p / 100. Weighted samples behave exactly as if each
// value were repeated `count` times. Both are O(n log n) at worst and allocate nothing beyond the input.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpufleet {

// Reorders `values` (nth_element); returns 0 for an empty vector.
double Percentile(std::vector<double>& values, double p);

// Several percentiles of `values` (any random-access container, e.g. a deque), as Percentile defines them,
// reordering it: an nth_element per percentile, each over the part above the previous one, which costs a
// few passes instead of a full sort. Zeros when empty.
template <class Container>
std::vector<double> PercentilesInPlace(Container& values, const std::vector<double>& ps) {
  std::vector<double> out(ps.size(), 0);
  if (values.empty()) return out;
  std::vector<size_t> order(ps.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ps[a] < ps[b]; });
  const size_t n = values.size();
  const auto begin = values.begin();
  size_t start = 0;  // values before it are no greater than any after it
  for (size_t i : order) {
    const double h = (static_cast<double>(n) - 1) * ps[i] / 100.0;
    const size_t lo = static_cast<size_t>(std::floor(h));
    if (lo >= start) {
      std::nth_element(begin + static_cast<std::ptrdiff_t>(start), begin + static_cast<std::ptrdiff_t>(lo), values.end());
      start = lo;
    }
    const double x_lo = values[lo];
    if (lo + 1 >= n || h == static_cast<double>(lo)) {
      out[i] = x_lo;
      continue;
    }
    // The next order statistic is the minimum of what lies above.
    const double x_hi = *std::min_element(begin + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
    out[i] = x_lo + (h - static_cast<double>(lo)) * (x_hi - x_lo);
  }
  return out;
}

// 8 bytes, because a run keeps one per (iteration, distinct gap): tens of millions in a long run. A float
// holds a latency to 7 significant digits.
struct WeightedSample {
  float value;
  uint32_t count;
};

// Sorts `samples` by value; returns 0 when the total count is 0.
double WeightedPercentile(std::vector<WeightedSample>& samples, double p);

// Several percentiles of the same weighted samples with one sort.
std::vector<double> WeightedPercentiles(std::vector<WeightedSample>& samples, const std::vector<double>& ps);

}  // namespace gpufleet
