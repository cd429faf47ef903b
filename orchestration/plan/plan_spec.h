// A capacity plan file (docs/planning.md): the question "what is the cheapest fleet that meets these SLOs
// on this traffic?" as a base scenario (model, workload, SLOs, router, prices, serving stack; its
// deployment and cluster are what the plan decides) plus the candidates to choose from. Read with located
// errors like a scenario ("plan.yaml:LINE:COL: what; expected ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/scenario/scenario_overrides.h"

namespace gpufleet {

struct PlanGpuCandidate {
  std::string gpu;                   // catalog GPU name
  std::optional<double> price_usd_per_hour;  // per GPU; overrides the scenario's and the catalog's
  std::optional<int64_t> max_gpus;   // availability
};

enum class PlanObjective { kCostPerHour, kCostPerMtok, kGoodputPerDollar };
const char* PlanObjectiveName(PlanObjective o);  // "cost_per_hour", ...

struct PlanSpec {
  std::string file, text, name;
  std::string base;                       // the base scenario, resolved against the plan file's folder
  std::vector<ScenarioOverride> fixed;    // `set`: applied to the base for every simulation
  std::vector<double> rates;              // `rates`: load multipliers to plan for (default [1])
  std::vector<PlanGpuCandidate> gpus;
  std::vector<int64_t> tensor_parallel;   // default [1]
  std::vector<int64_t> max_batched_tokens;  // default: the base deployment's
  std::vector<std::string> schedulers;    // default [sarathi]
  int64_t max_batch_size = 256;
  bool mixes = true;                      // `allow_mixes`: several GPU types in one fleet
  PlanObjective objective = PlanObjective::kCostPerHour;
  std::vector<int64_t> seeds;             // verification seeds (default: the base's seed)
  int64_t max_simulations = 2000;         // search budget
  double time_limit_s = 3600;
  double tolerance = 0.05;                // capacity bisection stops when hi / lo <= 1 + tolerance
  int64_t max_repairs = 32;               // verification: replicas the repair loop may add
  std::vector<std::string> routers;       // `candidates.routers`: routers to verify with (default: the base's)
  // `buckets`: Mélange-style request-size buckets: ascending edges of prompt and output lengths (tokens).
  // Empty both: no buckets (the workload's real mix only).
  std::vector<int64_t> bucket_prompt_edges, bucket_output_edges;
  bool has_buckets() const { return !bucket_prompt_edges.empty() || !bucket_output_edges.empty(); }
  // `frontier`: the cheapest verified fleet for each of these targets of one SLO (at the first rate).
  std::string frontier_slo;               // "ttft", "tbt" or "e2e"; empty: no frontier
  std::vector<double> frontier_targets_s;
};

absl::StatusOr<PlanSpec> LoadPlanSpec(const std::string& path);
// For tests: `text` stands for a file named `name`.
absl::StatusOr<PlanSpec> ParsePlanSpec(const std::string& text, const std::string& name);

}  // namespace gpufleet
