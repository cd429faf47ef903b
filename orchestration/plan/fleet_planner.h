// The planner's loop: capacity search (capacity_search.h) → integer program over the capacities
// (ilp_solver.h, with whole nodes and availability) → verification of the proposed fleet by simulating it
// on the real workload with every seed → repair (add the replica with the best SLO gain per dollar until
// the SLOs hold) → pruning (remove replicas while they still hold) → swaps (replace a replica by a cheaper
// one while they still hold). Proposals come from the workload's real mix (one per router to try) and,
// with `buckets:`, from Mélange's per-bucket program served by the size_buckets router; the cheapest
// verified one wins. The same is done with each GPU type alone, for the saving against the best
// single-type fleet, and for each target of the cost-versus-SLO frontier.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/plan/capacity_search.h"
#include "orchestration/plan/ilp_solver.h"
#include "orchestration/plan/plan_sims.h"
#include "orchestration/plan/plan_spec.h"
#include "orchestration/plan/sim_cache.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct VerifiedFleet {
  bool found = false;
  std::string why_not;           // when not found
  std::string proposal;          // where the integer program's fleet came from: "real mix, router X" / "buckets"
  Fleet ilp;                     // the integer program's answer
  double ilp_cost_usd_per_hour = 0;
  std::string ilp_status;        // "optimal" / "time_limit"
  double ilp_gap = 0;
  Fleet fleet;                   // after verification, repair, pruning and swaps
  std::vector<std::string> sets; // the `--set` overrides its runs used (the router)
  std::vector<SimOutcome> seeds; // its simulation per seed (SLOs met in all when found)
  std::vector<std::string> log;  // what repair, pruning and swaps did, and why
  double cost_usd_per_hour() const { return seeds.empty() ? 0 : seeds.front().cost_usd_per_hour; }
};

struct RatePlan {
  double rate = 1;               // the plan's `rates` entry
  double load_multiplier = 1;    // the workload.rate_multiplier simulated
  VerifiedFleet best;            // mixes allowed (when the plan allows them)
  std::vector<VerifiedFleet> proposals;  // each mixed proposal as verification left it (best is one of them)
  std::vector<std::pair<std::string, VerifiedFleet>> single_type;  // per GPU type
};

// One request-size bucket of the workload (`buckets:`): [lo, hi) of prompt and output tokens.
struct PlanBucket {
  std::string name;              // "prompt [512, 2048) x output [0, 256)"
  int64_t prompt_lo = 0, prompt_hi = 0, output_lo = 0, output_hi = 0;  // hi 0: unbounded
  int64_t prompt_index = 0, output_index = 0;
  int64_t requests = 0;          // in the base workload
  double share = 0;              // of its requests
  std::string Filter() const;    // the `workload.filter` value that selects it
};

// The edges' buckets, in [prompt][output] order, with empty counts.
std::vector<PlanBucket> BucketsOf(const PlanSpec& spec);

struct FrontierPoint {
  double target_s = 0;
  VerifiedFleet fleet;
};

struct PlanResult {
  std::vector<PlanCandidate> candidates;
  std::vector<CandidateCapacity> capacity;               // per candidate, on the workload's real mix
  std::vector<PlanBucket> buckets;                       // with `buckets:`
  std::vector<std::vector<CandidateCapacity>> bucket_capacity;  // [candidate][bucket] (buckets with requests)
  std::vector<RatePlan> rates;
  std::vector<FrontierPoint> frontier;                   // with `frontier:`, at the first rate
  int64_t simulations = 0;
  int64_t cache_hits = 0;
  double seconds = 0;
  double rps_per_multiplier = 0;  // PlannerOptions'
};

// One replica of a candidate as `cluster: auto` buys it, priced without simulating; an error when the
// replica cannot be deployed (e.g. the model does not fit its GPUs): the candidate is out.
struct ReplicaPrice {
  int64_t gpus_per_node = 0;     // the GPUs cluster: auto buys for one replica
  double node_usd_per_hour = 0;  // and their price
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
  SimCache* cache = nullptr;      // null: a cache for this plan only
  std::string context;            // digest of the data the simulations read (sim_cache.h)
  SloSpec slos;                   // the base scenario's SLOs (with the plan's `set:`)
  std::string base_router;        // the base scenario's router type
  std::function<absl::StatusOr<ReplicaPrice>(const PlanCandidate&)> price_replica;
  std::vector<PlanBucket> buckets;  // with `buckets:`: BucketsOf with the base workload's counts
  double rps_per_multiplier = 0;    // the base workload's mean request rate at rate multiplier 1
  PlanJobRunner runner;             // null: local children (`jobs` at once)
};

absl::StatusOr<PlanResult> RunPlan(const PlanSpec& spec, const PlannerOptions& options);

// Verification, repair, pruning and swaps of `start` at workload.rate_multiplier `load`, with every seed in
// `seeds`, using only the candidates in `allowed` (indices into sim.candidates()); `sets_for` gives a
// fleet's extra overrides (its router), null for none. Fills `out` (found, the final fleet, its runs, the
// log); an error only when a simulation could not be run at all.
absl::Status VerifyRepairPrune(const PlanSpec& spec, PlanSimulator& sim, const std::vector<int64_t>& seeds, double load,
                               const Fleet& start, const std::vector<size_t>& allowed, VerifiedFleet* out,
                               const std::function<std::vector<std::string>(const Fleet&)>& sets_for = nullptr);

// The candidates a spec expands to: GPU x TP x max_batched_tokens x scheduler, in that order.
std::vector<PlanCandidate> ExpandCandidates(const PlanSpec& spec, int64_t default_max_batched_tokens);

}  // namespace gpufleet
