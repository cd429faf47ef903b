// How the planner simulates: the base scenario with the plan's overrides and a candidate fleet, run as a
// `gpufleet simulate` child process (one SimGrid engine per process), read back from its JSON summary.
// Capacity search, verification and repair all go through here, so every number the plan reports comes
// from the same command a user can rerun.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "orchestration/plan/plan_spec.h"
#include "orchestration/plan/sim_cache.h"
#include "orchestration/simulate_jobs.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

// One replica type the plan may buy.
struct PlanCandidate {
  std::string gpu;
  int64_t tensor_parallel = 1;
  int64_t max_batched_tokens = 2048;
  std::string scheduler = "sarathi";
  int64_t max_batch_size = 256;
  std::string Name() const;       // "H100-SXM-80GB tp4 mbt2048 sarathi"
  std::string GroupName() const;  // its deployment group's name: "H100-SXM-80GB-tp4-mbt2048-sarathi"
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

// Runs `gpufleet` with each argument list and returns the results in order (a backend: local children, or
// Slurm jobs); `on_done(done, total)` may be called as they end.
using PlanJobRunner = std::function<absl::StatusOr<std::vector<JobResult>>(
    const std::vector<std::vector<std::string>>& jobs, const std::function<void(size_t, size_t)>& on_done)>;

struct PlanSimulatorOptions {
  std::string binary;            // the gpufleet executable
  int jobs = 1;
  std::string prices;            // `--set prices=...` value for verification runs, or empty
  std::string record_db;         // `--db` for recorded runs, or empty
  SimCache* cache = nullptr;     // shared across plans (e.g. a frontier's); null: the simulator's own
  std::string context;           // digest of what the arguments do not name: data files, trace, base text
  SloSpec slos;                  // the targets outcomes are judged against (cached ones included)
  std::vector<std::string> slo_sets;  // `--set` overrides that put those targets in place (`slos.ttft.target_s=2`)
  bool progress = false;         // a progress line on stderr while simulations run
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();  // search.time_limit_s
  PlanJobRunner runner;          // null: `jobs` local children of `binary` (simulate_jobs.h)
};

class PlanSimulator {
 public:
  PlanSimulator(const PlanSpec& spec, std::vector<PlanCandidate> candidates, PlanSimulatorOptions options);

  // One simulation the planner asks for.
  struct Request {
    Fleet fleet;
    double rate_multiplier = 1;
    int64_t seed = 0;
    bool record = false;             // also append the run to the plan's database (verification runs)
    std::vector<std::string> sets;   // more `--set` overrides (a bucket's workload.filter, a router)
    // A capacity probe: run without the plan's prices (one replica's price is computed, not simulated) and
    // cached without its SLO targets (outcomes are judged here), so other prices and targets reuse it.
    bool probe = false;
  };
  // The `simulate` arguments of `r`.
  std::vector<std::string> Args(const Request& r) const;
  // Runs the requests (those not in the cache) in parallel; counts them against the budget.
  absl::StatusOr<std::vector<SimOutcome>> Run(const std::vector<Request>& requests);
  // Every cached outcome of `r` but its load: (rate multiplier, outcome) ascending.
  std::vector<std::pair<double, SimOutcome>> Known(const Request& r) const;

  int64_t simulations() const { return simulations_; }
  // Simulations counted against the plan's budget: this simulator's and `used` before it (set_budget_used).
  int64_t budget_used() const { return budget_offset_ + simulations_; }
  void set_budget_used(int64_t used) { budget_offset_ = used; }
  bool out_of_time() const { return std::chrono::steady_clock::now() >= o_.deadline; }
  int64_t cache_hits() const { return cache_hits_; }
  const std::vector<PlanCandidate>& candidates() const { return candidates_; }
  const SloSpec& slos() const { return o_.slos; }
  // What the progress line says the simulations are for ("capacity search", "verification").
  void SetStage(std::string stage) { stage_ = std::move(stage); }

 private:
  std::string Key(const Request& r) const;

  const PlanSpec& spec_;
  std::vector<PlanCandidate> candidates_;
  PlanSimulatorOptions o_;
  SimCache own_cache_;
  SimCache* cache_;
  int64_t simulations_ = 0, cache_hits_ = 0, budget_offset_ = 0;
  std::string stage_ = "simulations";
};

// A fleet as the flow YAML of a scenario's `deployment` (one group per candidate with replicas, named by
// PlanCandidate::GroupName), for `--set deployment=...`.
std::string DeploymentOf(const Fleet& fleet, const std::vector<PlanCandidate>& candidates);

// A fleet's replica groups as JSON: [{gpu, tensor_parallel, max_batched_tokens, scheduler, replicas}].
nlohmann::ordered_json FleetGroupsJson(const Fleet& fleet, const std::vector<PlanCandidate>& candidates);

// A child's result judged against `slos` (each SLO met when its observed percentile is within its target,
// as the child itself judges; the child's own verdicts are ignored, so a cached run made under other
// targets is judged by the current ones).
SimOutcome ParseOutcome(bool exit_ok, const std::string& out, const std::string& error_line, const SloSpec& slos);

}  // namespace gpufleet
