// Robust statistics of repeated timings and the stopping rule of the measurement method: median, p10/p90
// (the simulator's percentile definition, sim/metrics/percentile.h), and a distribution-free confidence
// interval of the median from order statistics (binomial, no bootstrap). All samples are kept; nothing is
// rejected as an outlier, the median and percentiles are what make the summary robust.
#pragma once

#include <cstdint>
#include <vector>

namespace gpufleet::microbench {

// P(B <= k) for B ~ Binomial(n, 1/2); exact (log-space sum).
double BinomialHalfCdf(int64_t n, int64_t k);

// The order statistics x(lower) <= median <= x(upper) (0-based indices into the sorted samples) that
// bound the median with at least `confidence` coverage: the widest symmetric pair (lower = j,
// upper = n-1-j) with 2 * P(B <= j) <= 1 - confidence. `bounded` is false when n is too small for any
// pair to reach that coverage (fewer than 6 samples at 95%).
struct MedianCiRanks {
  bool bounded = false;
  int64_t lower = 0;
  int64_t upper = 0;
  double coverage = 0;  // 1 - 2 P(B <= lower)
};
MedianCiRanks MedianConfidenceRanks(int64_t n, double confidence);

struct RobustStats {
  int64_t n = 0;
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  bool ci_bounded = false;  // false: too few samples for the confidence interval
  double ci_low = 0;
  double ci_high = 0;
  // (ci_high - ci_low) / 2 / median; +infinity when unbounded or the median is 0.
  double rel_ci_half_width = 0;
};
// Statistics of `samples` (any order; empty gives n = 0 and an unbounded interval).
RobustStats ComputeStats(std::vector<double> samples, double confidence = 0.95);

// When to stop repeating a measurement: never before `min_reps` timed samples; then as soon as the
// median's confidence interval is tight (half-width / median <= max_rel_ci), the time budget is spent,
// or `max_reps` samples are in.
struct StopRule {
  int64_t min_reps = 10;
  int64_t max_reps = 2000;
  double max_rel_ci = 0.02;
  double max_seconds = 2.0;
  double confidence = 0.95;
};

enum class StopReason { kContinue, kConverged, kTimeBudget, kMaxReps };
const char* StopReasonName(StopReason reason);

// `elapsed_s`: wall time spent on the timed repetitions so far.
StopReason EvaluateStop(const StopRule& rule, const RobustStats& stats, double elapsed_s);

}  // namespace gpufleet::microbench
