// Tests for the microbenchmark statistics (tools/microbench/stats.h): percentiles, the order-statistic
// confidence interval of the median against exact binomial figures, and the stopping rule.
#include "tools/microbench/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace gpufleet::microbench {
namespace {

TEST(MicrobenchStats, BinomialCdfMatchesExactSmallCases) {
  EXPECT_DOUBLE_EQ(BinomialHalfCdf(10, 0), 1.0 / 1024);
  EXPECT_NEAR(BinomialHalfCdf(10, 1), 11.0 / 1024, 1e-15);
  EXPECT_NEAR(BinomialHalfCdf(10, 2), 56.0 / 1024, 1e-15);
  EXPECT_NEAR(BinomialHalfCdf(11, 5), 0.5, 1e-12);  // symmetric
  EXPECT_DOUBLE_EQ(BinomialHalfCdf(10, -1), 0.0);
  EXPECT_DOUBLE_EQ(BinomialHalfCdf(10, 10), 1.0);
  // Large n stays finite and matches the normal approximation closely.
  const double z = (4900 + 0.5 - 5000) / std::sqrt(10000 * 0.25);
  EXPECT_NEAR(BinomialHalfCdf(10000, 4900), 0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-3);
}

TEST(MicrobenchStats, MedianCiRanksFollowTheBinomialTable) {
  // Textbook table (e.g. Conover, "Practical Nonparametric Statistics"): n = 10 at 95% -> x(2)..x(9),
  // coverage 97.85%.
  MedianCiRanks r = MedianConfidenceRanks(10, 0.95);
  ASSERT_TRUE(r.bounded);
  EXPECT_EQ(r.lower, 1);
  EXPECT_EQ(r.upper, 8);
  EXPECT_NEAR(r.coverage, 1 - 22.0 / 1024, 1e-12);
  // n = 20: x(6)..x(15), coverage 95.86%.
  r = MedianConfidenceRanks(20, 0.95);
  ASSERT_TRUE(r.bounded);
  EXPECT_EQ(r.lower, 5);
  EXPECT_EQ(r.upper, 14);
  EXPECT_NEAR(r.coverage, 0.9586, 1e-4);
  // Five samples cannot reach 95% (the widest interval, min..max, covers 93.75%); six can.
  EXPECT_FALSE(MedianConfidenceRanks(5, 0.95).bounded);
  r = MedianConfidenceRanks(6, 0.95);
  ASSERT_TRUE(r.bounded);
  EXPECT_EQ(r.lower, 0);
  EXPECT_EQ(r.upper, 5);
  // Coverage always at least the confidence asked for.
  for (int n = 6; n < 300; ++n) {
    MedianCiRanks x = MedianConfidenceRanks(n, 0.95);
    ASSERT_TRUE(x.bounded) << n;
    EXPECT_GE(x.coverage, 0.95) << n;
    EXPECT_EQ(x.lower + x.upper, n - 1) << n;
    // One step narrower would fall below the confidence.
    EXPECT_GT(2 * BinomialHalfCdf(n, x.lower + 1), 0.05) << n;
  }
}

TEST(MicrobenchStats, MedianCiRanksAgreeWithTheCdfForManySamples) {
  // The runner recomputes the interval after every batch, up to max_reps (2000) samples and beyond with a
  // large --min-reps; the ranks (accumulated term by term) must be the widest pair BinomialHalfCdf allows.
  for (int64_t n : {300, 999, 1000, 2000, 4321, 10000}) {
    for (double confidence : {0.9, 0.95, 0.99}) {
      const double alpha = 1 - confidence;
      MedianCiRanks r = MedianConfidenceRanks(n, confidence);
      ASSERT_TRUE(r.bounded) << n;
      EXPECT_EQ(r.lower + r.upper, n - 1) << n;
      EXPECT_LE(2 * BinomialHalfCdf(n, r.lower), alpha) << n;
      EXPECT_GT(2 * BinomialHalfCdf(n, r.lower + 1), alpha) << n;
      EXPECT_NEAR(r.coverage, 1 - 2 * BinomialHalfCdf(n, r.lower), 1e-9) << n;
    }
  }
}

TEST(MicrobenchStats, ComputeStatsRobustSummary) {
  std::vector<double> v = {5, 1, 4, 2, 3, 6, 7, 8, 9, 10};  // order does not matter
  RobustStats s = ComputeStats(v);
  EXPECT_EQ(s.n, 10);
  EXPECT_DOUBLE_EQ(s.median, 5.5);
  EXPECT_DOUBLE_EQ(s.p10, 1.9);  // numpy linear: rank 0.9
  EXPECT_DOUBLE_EQ(s.p90, 9.1);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  ASSERT_TRUE(s.ci_bounded);
  EXPECT_DOUBLE_EQ(s.ci_low, 2);
  EXPECT_DOUBLE_EQ(s.ci_high, 9);
  EXPECT_DOUBLE_EQ(s.rel_ci_half_width, 3.5 / 5.5);

  // One wild outlier moves the mean, not the median or its interval: every sample is kept, the summary
  // is robust.
  std::vector<double> w(50, 100.0);
  for (int i = 0; i < 50; ++i) w[i] += i % 5;
  RobustStats base = ComputeStats(w);
  w.back() = 1e6;
  RobustStats outlier = ComputeStats(w);
  EXPECT_DOUBLE_EQ(outlier.median, base.median);
  EXPECT_DOUBLE_EQ(outlier.ci_low, base.ci_low);
  EXPECT_DOUBLE_EQ(outlier.ci_high, base.ci_high);
  EXPECT_GT(outlier.mean, base.mean + 1000);
  EXPECT_EQ(outlier.n, 50);

  RobustStats empty = ComputeStats({});
  EXPECT_EQ(empty.n, 0);
  EXPECT_FALSE(empty.ci_bounded);
  EXPECT_TRUE(std::isinf(empty.rel_ci_half_width));
}

TEST(MicrobenchStats, StopRule) {
  StopRule rule;  // min 10, 2%, 2 s
  std::vector<double> tight(9, 10.0);
  EXPECT_EQ(EvaluateStop(rule, ComputeStats(tight), 0.1), StopReason::kContinue);  // under min_reps
  tight.push_back(10.0);
  EXPECT_EQ(EvaluateStop(rule, ComputeStats(tight), 0.1), StopReason::kConverged);

  std::mt19937 rng(7);
  std::uniform_real_distribution<double> noisy(50, 150);
  std::vector<double> wide;
  for (int i = 0; i < 20; ++i) wide.push_back(noisy(rng));
  RobustStats ws = ComputeStats(wide);
  ASSERT_GT(ws.rel_ci_half_width, 0.02);
  EXPECT_EQ(EvaluateStop(rule, ws, 0.5), StopReason::kContinue);
  EXPECT_EQ(EvaluateStop(rule, ws, 2.0), StopReason::kTimeBudget);
  rule.max_reps = 20;
  EXPECT_EQ(EvaluateStop(rule, ws, 0.5), StopReason::kMaxReps);

  // The interval narrows like 1/sqrt(n): enough samples of a 10%-noise process converge to 2%.
  rule.max_reps = 100000;
  std::normal_distribution<double> normal(100, 10);
  std::vector<double> many;
  StopReason reason = StopReason::kContinue;
  while (reason == StopReason::kContinue && many.size() < 100000) {
    many.push_back(normal(rng));
    if (many.size() % 10 == 0) reason = EvaluateStop(rule, ComputeStats(many), 0);
  }
  EXPECT_EQ(reason, StopReason::kConverged);
  EXPECT_GT(many.size(), 100u);
  EXPECT_LT(many.size(), 2000u);
}

}  // namespace
}  // namespace gpufleet::microbench
