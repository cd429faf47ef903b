// Exact percentiles over all samples (no sketches), plain and weighted.
//
// Definition (numpy's default "linear"): with n sorted samples x[0..n-1], the p-th percentile is
// x[h] interpolated linearly at rank h = (n - 1) * p / 100. Weighted samples behave exactly as if each
// value were repeated `count` times. Both are O(n log n) at worst and allocate nothing beyond the input.
#pragma once

#include <cstdint>
#include <vector>

namespace gpufleet {

// Reorders `values` (nth_element); returns 0 for an empty vector.
double Percentile(std::vector<double>& values, double p);

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
