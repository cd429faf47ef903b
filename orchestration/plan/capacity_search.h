// Capacity profiling by simulation: for each candidate replica type, the largest load one replica carries
// within the SLOs, found by bisection on the workload's rate multiplier. The multiplier stretches or
// compresses the trace's own timeline, so the search keeps the traffic's real burstiness (not a Poisson
// stand-in). Candidates are searched side by side: each round runs one probe per unfinished candidate,
// in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/plan/plan_sims.h"

namespace gpufleet {

struct CandidateCapacity {
  bool feasible = false;
  double max_multiplier = 0;   // the largest rate_multiplier one replica met every SLO at (capped at `target`)
  bool saturated = false;      // one replica met the SLOs at the whole target load
  std::string limit;           // the SLO that failed just above max_multiplier, or why the candidate is out
  double limit_ratio = 0;      // observed / target of that SLO there
  int64_t gpus_per_node = 0;   // the node cluster: auto bought for one replica, and its price
  double node_usd_per_hour = 0;
  int64_t probes = 0;
};

struct CapacitySearchOptions {
  double target_multiplier = 1;  // the load the fleet must carry (the largest planned)
  int64_t seed = 0;
  double tolerance = 0.05;       // stop when hi / lo <= 1 + tolerance
  int64_t max_simulations = 2000;
  double lowest_share = 1e-3;    // below target * this, a candidate that still misses is out
};

absl::StatusOr<std::vector<CandidateCapacity>> SearchCapacities(PlanSimulator& sim, const CapacitySearchOptions& o);

}  // namespace gpufleet
