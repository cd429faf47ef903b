// Exact percentiles over all samples (no sketches), plain and weighted.
//
// Definition (numpy's default "linear"): with n sorted samples x[0..n-1], the p-th percentile is
// x[h] interpolated linearly at rank h = (n - 1) * p / 100. Weighted samples behave exactly as if each
// value were repeated `count` times. Both are O(n log n) at worst and allocate nothing beyond the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpufleet {

// Reorders `values` (nth_element); returns 0 for an empty vector.
double Percentile(std::vector<double>& values, double p);

// The same on values already sorted ascending (any random-access container); 0 when empty.
template <class Sorted>
double SortedPercentile(const Sorted& sorted, double p) {
  if (sorted.empty()) return 0;
  const double h = (static_cast<double>(sorted.size()) - 1) * p / 100.0;
  const size_t lo = static_cast<size_t>(h);
  const size_t hi = lo + 1 < sorted.size() ? lo + 1 : lo;
  const double x_lo = sorted[lo];
  if (hi == lo || h == static_cast<double>(lo)) return x_lo;
  return x_lo + (h - static_cast<double>(lo)) * (static_cast<double>(sorted[hi]) - x_lo);
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
