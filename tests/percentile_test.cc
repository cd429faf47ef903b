// Exact percentiles, plain and weighted, against hand-computed order statistics.
#include "sim/metrics/percentile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace gpufleet {
namespace {

TEST(Percentile, MatchesLinearInterpolationDefinition) {
  std::vector<double> v = {5, 1, 4, 2, 3};  // sorted 1..5
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 5);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 4.6);  // rank 3.6 -> 4 + 0.6 * (5 - 4)
  EXPECT_DOUBLE_EQ(Percentile(v, 25), 2);
}

TEST(Percentile, EmptyAndSingle) {
  std::vector<double> empty;
  EXPECT_EQ(Percentile(empty, 99), 0);
  std::vector<double> one = {7};
  EXPECT_EQ(Percentile(one, 99), 7);
}

TEST(Percentile, AgreesWithFullSortOnRandomData) {
  std::mt19937_64 rng(7);
  std::vector<double> v(10001);
  for (double& x : v) x = static_cast<double>(rng() % 100000) / 7.0;
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (double p : {50.0, 90.0, 95.0, 99.0, 99.9}) {
    std::vector<double> copy = v;
    const double h = (sorted.size() - 1) * p / 100.0;
    const size_t lo = static_cast<size_t>(h);
    const double expect = sorted[lo] + (h - lo) * (sorted[std::min(lo + 1, sorted.size() - 1)] - sorted[lo]);
    EXPECT_DOUBLE_EQ(Percentile(copy, p), expect) << p;
  }
}

TEST(Percentile, WeightedEqualsExpandedSamples) {
  std::vector<WeightedSample> w = {{0.3f, 3}, {0.1f, 1}, {0.2f, 5}, {0.9f, 1}};
  std::vector<double> expanded;
  for (const auto& s : w)
    for (uint64_t i = 0; i < s.count; ++i) expanded.push_back(s.value);
  for (double p : {0.0, 10.0, 50.0, 73.0, 90.0, 99.0, 100.0}) {
    std::vector<double> copy = expanded;
    std::vector<WeightedSample> wc = w;
    EXPECT_DOUBLE_EQ(WeightedPercentile(wc, p), Percentile(copy, p)) << p;
  }
}

TEST(Percentile, WeightedZeroTotal) {
  std::vector<WeightedSample> none;
  EXPECT_EQ(WeightedPercentile(none, 50), 0);
}

}  // namespace
}  // namespace gpufleet
