// Capacity profiling by simulation: for each candidate replica type, the largest load one replica carries
// within the SLOs (on the whole workload, or on one request-size bucket of it), found by bisection on the
// workload's rate multiplier. The multiplier stretches or compresses the trace's own timeline, so the
// search keeps the traffic's real burstiness (not a Poisson stand-in). Units are searched side by side:
// each round runs one probe per unfinished unit, in parallel.
//
// Probes the simulator's cache already holds (another plan's, or this plan's under another SLO target)
// bracket the capacity before any simulation: a search that is already within its tolerance runs none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/plan/plan_sims.h"

namespace gpufleet {

// One capacity to find: one replica of a candidate, on the load its `sets` select.
struct CapacityUnit {
  size_t candidate = 0;
  std::vector<std::string> sets;  // e.g. a bucket's `workload.filter=...`; empty: the whole workload
  double cap_multiplier = 1;      // searched no higher: the load the fleet must carry (or more, for a bucket)
};

struct CandidateCapacity {
  bool feasible = false;
  double max_multiplier = 0;   // the largest rate_multiplier one replica met every SLO at (capped at the unit's cap)
  bool saturated = false;      // one replica met the SLOs at the unit's cap
  std::string limit;           // the SLO that failed just above max_multiplier, or why the candidate is out
  double limit_ratio = 0;      // observed / target of that SLO there
  int64_t gpus_per_node = 0;   // the node cluster: auto buys for one replica, and its price
  double node_usd_per_hour = 0;
  int64_t probes = 0;          // simulated for this search
  int64_t cached_probes = 0;   // known before it (the simulator's cache)
};

struct CapacitySearchOptions {
  double target_multiplier = 1;  // the load the fleet must carry (the largest planned)
  int64_t seed = 0;
  double tolerance = 0.05;       // stop when hi / lo <= 1 + tolerance
  int64_t max_simulations = 2000;
  double lowest_share = 1e-3;    // below target * this, a unit that still misses is out
};

// `out` holds one entry per unit; entries already marked out (feasible false with a limit, e.g. the
// replica does not fit its GPUs) are not searched.
absl::Status SearchCapacities(PlanSimulator& sim, const std::vector<CapacityUnit>& units,
                              const CapacitySearchOptions& o, std::vector<CandidateCapacity>* out);

}  // namespace gpufleet
