// The power-oversubscription study (`gpufleet oversubscribe`, docs/power-model.md#oversubscription): under a
// fixed IT power budget, how many servers fit if a controller caps them when they draw too much?
//
// The study is a sweep (orchestration/sweep_*.h): the base scenario's one node group grows to each server
// count, its deployment groups' replicas and the workload's rate grow with it (every server keeps the load
// it has in the base scenario), and every point runs under the budget with the chosen controller. The
// oversubscription ratio of a point is its servers' nameplate power (GPUs at TDP plus the node's non-GPU
// maximum) over the budget. The baseline is the largest count that is not oversubscribed (ratio <= 1); the
// answer is the largest ratio up to which every count's SLO attainment is at most `max_loss` below the
// baseline's, with no breaker trip and no partial run (a count that fails stops the search, even if a larger
// one happens to pass: an answer must hold for the fleets on the way to it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "orchestration/sweep_report.h"
#include "orchestration/sweep_spec.h"

namespace gpufleet {

struct OversubscriptionOptions {
  std::string scenario;          // the base scenario file
  double budget_w = 0;           // the cluster's IT power budget (0: the scenario's power.budget_w)
  std::vector<int64_t> servers;  // server counts to run, ascending
  std::string controller = "polca";  // power.controller, as YAML (a name or a flow mapping)
  double max_loss = 0.01;        // acceptable drop in SLO attainment (absolute share of requests)
  std::vector<int64_t> seeds;    // empty: the scenario's own seed
};

// The study as a sweep: its spec (text included, so the database keeps how it was made) and the figures the
// conclusion needs.
struct OversubscriptionPlan {
  SweepSpec sweep;
  double budget_w = 0;
  std::string node_name;     // the servers' node type
  double server_peak_w = 0;  // one server's nameplate power
  std::vector<int64_t> servers;
};

// Errors (InvalidArgument, naming what to change): the scenario has more than one node group or an
// automatic cluster, a group's replicas are not a whole number per server, no budget, no server count
// within the budget.
absl::StatusOr<OversubscriptionPlan> PlanOversubscription(const OversubscriptionOptions& options,
                                                          const Catalog& catalog);

// The run-summary columns the study reads.
const std::vector<std::string>& OversubscriptionMetrics();

struct OversubscriptionRow {
  int64_t servers = 0;
  double ratio = 0;           // nameplate power / budget
  bool ran = false;           // every seed finished
  bool partial = false;
  double slo_attainment = 0, loss = 0;  // loss: baseline attainment - this one
  double ttft_p99_s = 0, tbt_p99_s = 0, capped_gpu_s = 0, time_over_budget_s = 0, breaker_trips = 0;
  double it_power_peak_w = 0, cost_usd_per_mtok = 0, throughput_tok_s = 0;
  bool acceptable = false;    // within max_loss, no trip, whole
};

struct OversubscriptionResult {
  std::vector<OversubscriptionRow> rows;  // by server count
  int baseline = -1;                      // row index
  int answer = -1;                        // row index; -1: none acceptable
};

// Reads the points' figures (means over seeds) from the sweep's report and picks the answer.
OversubscriptionResult ConcludeOversubscription(const OversubscriptionPlan& plan, const SweepReport& report,
                                                double max_loss);

}  // namespace gpufleet
