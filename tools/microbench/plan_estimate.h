// How long a plan takes on a GPU, from the catalog's figures: a simple roofline per call (peak FLOP/s and
// bandwidth scaled by fixed achievable fractions), times the repetitions, warm-up and setup that the
// measurement method (method.h) spends on each point. Used by --dry-run and by the synthetic CSV.
#pragma once

#include <map>

#include "models/catalog.h"
#include "tools/microbench/method.h"
#include "tools/microbench/plan.h"

namespace gpufleet::microbench {

// Seconds one call of the measured operation takes by the roofline (for `launch`: one empty kernel).
double EstimateCallSeconds(const Measurement& m, const GpuSpec& gpu);

// Seconds the runner spends on the point: setup, warm-up and the timed samples until the stopping rule
// is expected to fire (assumes convergence after 2 x min_reps samples, capped by the time budget).
double EstimatePointSeconds(const Measurement& m, const GpuSpec& gpu, const MethodOptions& method);

struct PlanEstimate {
  std::map<Op, int64_t> points;
  std::map<Op, double> seconds;
  double total_seconds = 0;
};
// `power_limits`: how many limits a --power-limits sweep repeats the plan at (0 = no sweep; each limit
// adds a settling pause).
PlanEstimate EstimatePlan(const Plan& plan, const GpuSpec& gpu, const MethodOptions& method, int power_limits = 0);

}  // namespace gpufleet::microbench
