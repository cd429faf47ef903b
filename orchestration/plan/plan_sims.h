// How the planner simulates: the base scenario with the plan's overrides and a candidate fleet, run as a
// `gpufleet simulate` child process (one SimGrid engine per process), read back from its JSON summary.
// Capacity search, verification and repair all go through here, so every number the plan reports comes
// from the same command a user can rerun.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "orchestration/plan/plan_spec.h"

namespace gpufleet {

// One replica type the plan may buy.
struct PlanCandidate {
  std::string gpu;
  int64_t tensor_parallel = 1;
  int64_t max_batched_tokens = 2048;
  std::string scheduler = "sarathi";
  int64_t max_batch_size = 256;
  std::string Name() const;  // "H100-SXM-80GB tp4 mbt2048 sarathi"
};

// A fleet: replicas per candidate (index into the plan's candidate list).
struct Fleet {
  std::vector<int64_t> replicas;
  int64_t total() const;
};

// What one simulation said.
struct SimOutcome {
  bool ran = false;             // the child exited 0 with a summary
  std::string error;            // otherwise, its last stderr line
  bool slos_met = false;        // every SLO evaluated and met (and the run finished)
  std::string worst_slo;        // the SLO with the largest observed/target ratio, e.g. "tbt p99"
  double worst_ratio = 0;       // observed / target of that SLO (> 1: missed)
  double cost_usd_per_hour = 0, hardware_usd_per_hour = 0, cost_usd_per_mtok = 0, goodput_rps = 0;
  int64_t gpus_total = 0;
  nlohmann::json summary;       // the whole JSON summary
};

class PlanSimulator {
 public:
  PlanSimulator(const PlanSpec& spec, std::vector<PlanCandidate> candidates, std::string binary, int jobs,
                std::string prices_override, std::string record_db = "");
  // The `simulate` arguments for `fleet` at load `rate_multiplier` with `seed`.
  std::vector<std::string> Args(const Fleet& fleet, double rate_multiplier, int64_t seed) const;
  // Runs the given (fleet, multiplier, seed) simulations in parallel; counts them against the budget.
  struct Request {
    Fleet fleet;
    double rate_multiplier = 1;
    int64_t seed = 0;
    bool record = false;  // also append the run to the plan's database (verification runs)
  };
  absl::StatusOr<std::vector<SimOutcome>> Run(const std::vector<Request>& requests);
  int64_t simulations() const { return simulations_; }
  const std::vector<PlanCandidate>& candidates() const { return candidates_; }

 private:
  const PlanSpec& spec_;
  std::vector<PlanCandidate> candidates_;
  std::string binary_;
  int jobs_;
  std::string prices_;  // `--set prices=...` value, or empty
  std::string record_db_;  // `--db` for recorded runs, or empty
  int64_t simulations_ = 0;
};

// A fleet's replica groups as JSON: [{gpu, tensor_parallel, max_batched_tokens, scheduler, replicas}].
nlohmann::ordered_json FleetGroupsJson(const Fleet& fleet, const std::vector<PlanCandidate>& candidates);

SimOutcome ParseOutcome(int exit_ok, const std::string& out, const std::string& error_line);

}  // namespace gpufleet
