// Exact percentiles, plain and weighted, against hand-computed order statistics.
#include "sim/metrics/percentile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>

#include "sim/metrics/request_log.h"

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

// The sort-everything reference: the linear-interpolation percentile of all samples, sorted.
double SortEverything(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double h = (v.size() - 1) * p / 100.0;
  const size_t lo = static_cast<size_t>(h);
  return v[lo] + (h - lo) * (v[std::min(lo + 1, v.size() - 1)] - v[lo]);
}

TEST(Percentile, InPlacePercentilesOfAColumnMatchSortingEverything) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t n = 1 + rng() % 5000;
    std::deque<float> column;
    std::vector<double> all;
    for (size_t i = 0; i < n; ++i) {
      // Few distinct values on even trials (ties), continuous ones on odd trials.
      const float x = trial % 2 == 0 ? static_cast<float>(rng() % 7) * 0.25f
                                     : static_cast<float>(std::exp(static_cast<double>(rng() % 100000) / 20000.0));
      column.push_back(x);
      all.push_back(x);
    }
    const std::vector<double> ps = {99.0, 0.0, 50.0, 100.0, 90.0, 95.0, 1.0, 99.9, 50.0};  // any order, repeats
    const std::vector<double> got = PercentilesInPlace(column, ps);
    for (size_t i = 0; i < ps.size(); ++i) {
      EXPECT_EQ(got[i], SortEverything(all, ps[i])) << "trial " << trial << " p" << ps[i];
    }
    // A second pass over the reordered column gives the same figures (a summary computed twice).
    EXPECT_EQ(PercentilesInPlace(column, ps), got);
  }
}

// The request log merges equal gaps as its list fills; percentiles stay those of every gap expanded.
TEST(Percentile, MergedGapsKeepExactPercentiles) {
  std::mt19937_64 rng(5);
  RequestLog log(RequestSloCheck{1, 1, 1, 99});
  std::vector<double> expanded;
  // Past the merge threshold (65,536 pairs) several times over, with many repeated gaps.
  for (int i = 0; i < 400000; ++i) {
    const double gap = (i % 3 == 0) ? 0.001 * static_cast<double>(rng() % 50) : 1e-6 * static_cast<double>(rng() % 1000000);
    const uint32_t count = 1 + static_cast<uint32_t>(rng() % 4);
    log.AddGaps(gap, count);
    for (uint32_t k = 0; k < count; ++k) expanded.push_back(static_cast<float>(gap));
  }
  EXPECT_LT(log.gaps().size(), 400000u) << "equal gaps were never merged";
  uint64_t total = 0;
  for (const WeightedSample& g : log.gaps()) total += g.count;
  EXPECT_EQ(total, expanded.size());
  for (double p : {0.0, 50.0, 90.0, 99.0, 99.99, 100.0}) {
    std::vector<WeightedSample> gaps = log.gaps();
    EXPECT_EQ(WeightedPercentile(gaps, p), SortEverything(expanded, p)) << p;
  }
}

}  // namespace
}  // namespace gpufleet
