// The run summary: latency percentiles, SLO attainment, throughput, utilization, energy and cost.
//
// Computed once from a finished run. Latency statistics cover completed requests; TBT covers every
// inter-token gap of every request. SLO attainment is the share of arrived requests (rejected ones
// count as misses) that met all the scenario's SLOs; goodput is those requests per second.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/catalog.h"
#include "models/cost_model.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct LatencyStats {
  double mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

struct SloOutcome {
  std::string metric;       // "ttft", "tbt", "e2e"
  double target_s = 0;
  double percentile = 0;
  double observed_s = 0;    // that percentile over the run
  bool met = false;
};

struct RunSummary {
  std::string scenario;
  uint64_t seed = 0;
  std::string model;
  std::string perf_model;
  std::string power_model;
  int64_t requests_arrived = 0, requests_completed = 0, requests_rejected = 0, requests_truncated = 0;
  int64_t prompt_tokens = 0, output_tokens = 0;
  int64_t preemptions = 0;
  double duration_s = 0;
  LatencyStats ttft, tbt, tpot, e2e, queue;
  double throughput_rps = 0, throughput_tok_s = 0;
  double slo_attainment = 0, goodput_rps = 0;
  std::vector<SloOutcome> slos;
  int total_gpus = 0, deployed_gpus = 0;
  double gpu_util_mean = 0;           // over every GPU of the cluster
  double gpu_util_deployed_mean = 0;  // over the GPUs that hold replicas
  double energy_kwh = 0, mean_power_w = 0;
  FleetCost hardware;
  double energy_usd_per_hour = 0;
  double cost_usd_per_hour = 0;       // hardware + priced energy
  double cost_usd_total = 0;          // over duration_s
  double cost_usd_per_mtok = 0;       // per million output tokens
};

RunSummary Summarize(const Scenario& scenario, const Catalog& catalog, RunResult& run);

}  // namespace gpufleet
