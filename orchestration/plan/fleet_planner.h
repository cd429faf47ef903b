// The planner's loop: capacity search (capacity_search.h) → integer program over the capacities
// (ilp_solver.h, with whole nodes and availability) → verification of the proposed fleet by simulating it
// on the real workload with every seed → repair (add the replica with the best SLO gain per dollar until
// the SLOs hold) → pruning (remove replicas while they still hold). The same is done with each GPU type
// alone, for the saving against the best single-type fleet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/plan/capacity_search.h"
#include "orchestration/plan/ilp_solver.h"
#include "orchestration/plan/plan_sims.h"
#include "orchestration/plan/plan_spec.h"

namespace gpufleet {

struct VerifiedFleet {
  bool found = false;
  std::string why_not;           // when not found
  Fleet ilp;                     // the integer program's answer
  double ilp_cost_usd_per_hour = 0;
  std::string ilp_status;        // "optimal" / "time_limit"
  double ilp_gap = 0;
  Fleet fleet;                   // after verification, repair and pruning
  std::vector<SimOutcome> seeds; // its simulation per seed (SLOs met in all when found)
  std::vector<std::string> log;  // what repair and pruning did, and why
  double cost_usd_per_hour() const { return seeds.empty() ? 0 : seeds.front().cost_usd_per_hour; }
};

struct RatePlan {
  double rate = 1;               // the plan's `rates` entry
  double load_multiplier = 1;    // the workload.rate_multiplier simulated
  VerifiedFleet best;            // mixes allowed (when the plan allows them)
  std::vector<std::pair<std::string, VerifiedFleet>> single_type;  // per GPU type
};

struct PlanResult {
  std::vector<PlanCandidate> candidates;
  std::vector<CandidateCapacity> capacity;
  std::vector<RatePlan> rates;
  int64_t simulations = 0;
  double seconds = 0;
};

struct PlannerOptions {
  std::string binary;             // the gpufleet executable
  int jobs = 1;
  double base_multiplier = 1;     // the base scenario's own workload.rate_multiplier
  int64_t base_seed = 0;
  std::string prices_override;    // flow YAML for `--set prices=...`, or empty
  int64_t default_max_batched_tokens = 2048;  // when the plan lists none: the base deployment's
  std::string db;                 // non-empty: every verification simulation is appended to it as a run
  bool progress = false;
};

absl::StatusOr<PlanResult> RunPlan(const PlanSpec& spec, const PlannerOptions& options);

// Verification, repair and pruning of `start` at workload.rate_multiplier `load`, with every seed in
// `seeds`, using only the candidates in `allowed` (indices into sim.candidates()). Fills `out` (found, the
// final fleet, its runs, the log); an error only when a simulation could not be run at all.
absl::Status VerifyRepairPrune(const PlanSpec& spec, PlanSimulator& sim, const std::vector<int64_t>& seeds, double load,
                               const Fleet& start, const std::vector<size_t>& allowed, VerifiedFleet* out);

// The candidates a spec expands to: GPU x TP x max_batched_tokens x scheduler, in that order.
std::vector<PlanCandidate> ExpandCandidates(const PlanSpec& spec, int64_t default_max_batched_tokens);

}  // namespace gpufleet
