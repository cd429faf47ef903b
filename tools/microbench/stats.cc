// Median confidence interval from order statistics, robust summary and stopping rule (see stats.h).
#include "tools/microbench/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sim/metrics/percentile.h"

namespace gpufleet::microbench {

double BinomialHalfCdf(int64_t n, int64_t k) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  // log C(n, i) - n log 2, summed with log-sum-exp so that large n neither overflows nor underflows.
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  double max_log = -std::numeric_limits<double>::infinity();
  std::vector<double> logs;
  logs.reserve(static_cast<size_t>(k) + 1);
  for (int64_t i = 0; i <= k; ++i) {
    const double l = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + log_half_n;
    logs.push_back(l);
    max_log = std::max(max_log, l);
  }
  double sum = 0;
  for (double l : logs) sum += std::exp(l - max_log);
  return std::min(1.0, std::exp(max_log) * sum);
}

MedianCiRanks MedianConfidenceRanks(int64_t n, double confidence) {
  MedianCiRanks r;
  const double alpha = 1.0 - confidence;
  if (n <= 0) return r;
  // The tail probability grows with j; walk up while the two tails together stay within alpha. The CDF
  // is accumulated term by term (log-sum-exp) rather than recomputed with BinomialHalfCdf for every j:
  // that was O(n^2) lgamma calls (~12 ms at n = 2000), run after every batch of samples while the GPU
  // sits idle.
  int64_t best = -1;
  double best_tail = 0;
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  const double lgamma_n1 = std::lgamma(n + 1.0);
  double log_cdf = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < (n + 1) / 2; ++j) {
    const double log_pmf = lgamma_n1 - std::lgamma(j + 1.0) - std::lgamma(n - j + 1.0) + log_half_n;
    const double hi = std::max(log_cdf, log_pmf), lo = std::min(log_cdf, log_pmf);
    log_cdf = hi + std::log1p(std::exp(lo - hi));  // log(exp(log_cdf) + exp(log_pmf))
    const double tail = std::min(1.0, std::exp(log_cdf));
    if (2 * tail > alpha) break;
    best = j;
    best_tail = tail;
  }
  if (best < 0) return r;
  r.bounded = true;
  r.lower = best;
  r.upper = n - 1 - best;
  r.coverage = 1 - 2 * best_tail;
  return r;
}

RobustStats ComputeStats(std::vector<double> samples, double confidence) {
  RobustStats s;
  s.n = static_cast<int64_t>(samples.size());
  s.rel_ci_half_width = std::numeric_limits<double>::infinity();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  std::vector<double> work = samples;
  s.median = Percentile(work, 50);
  s.p10 = Percentile(work, 10);
  s.p90 = Percentile(work, 90);
  const MedianCiRanks ranks = MedianConfidenceRanks(s.n, confidence);
  if (ranks.bounded) {
    s.ci_bounded = true;
    s.ci_low = samples[static_cast<size_t>(ranks.lower)];
    s.ci_high = samples[static_cast<size_t>(ranks.upper)];
    if (s.median > 0) s.rel_ci_half_width = (s.ci_high - s.ci_low) / 2 / s.median;
  }
  return s;
}

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kContinue: return "continue";
    case StopReason::kConverged: return "converged";
    case StopReason::kTimeBudget: return "time budget";
    case StopReason::kMaxReps: return "max repetitions";
  }
  return "?";
}

StopReason EvaluateStop(const StopRule& rule, const RobustStats& stats, double elapsed_s) {
  if (stats.n < rule.min_reps) return StopReason::kContinue;
  if (stats.ci_bounded && stats.rel_ci_half_width <= rule.max_rel_ci) return StopReason::kConverged;
  if (stats.n >= rule.max_reps) return StopReason::kMaxReps;
  if (elapsed_s >= rule.max_seconds) return StopReason::kTimeBudget;
  return StopReason::kContinue;
}

}  // namespace gpufleet::microbench
