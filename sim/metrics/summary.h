// The run summary: latency percentiles, SLO attainment, throughput, utilization, energy and cost.
//
// Computed once from a finished run. Latency statistics cover completed requests; TBT covers every
// inter-token gap of every request. SLO attainment is the share of arrived requests (rejected ones, and
// those a partial run left unfinished, count as misses) that met all the scenario's SLOs; goodput is
// those requests per second. A figure with nothing to measure (no sample, no output token) is undefined,
// never 0, so no report can show it as a result.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sim/metrics/power_stats.h"
#include <vector>

#include "models/catalog.h"
#include "models/cost_model.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct LatencyStats {
  uint64_t samples = 0;     // 0: the statistics below are undefined
  double mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

struct SloOutcome {
  std::string metric;       // "ttft", "tbt", "e2e"
  double target_s = 0;
  double percentile = 0;
  bool evaluated = false;   // the metric had samples; if not, observed_s and met mean nothing
  double observed_s = 0;    // that percentile over the run
  bool met = false;
};

// Disaggregated serving: the KV transfers from prefill to decode replicas (sim/metrics/fabric_stats.h).
struct TransferSummary {
  bool enabled = false;               // the deployment has prefill and decode replicas
  int64_t transfers = 0;
  double bytes = 0;
  LatencyStats transfer;              // per landed transfer
  // The transfers' share of completed disaggregated requests' TTFT and E2E (sums over those requests);
  // undefined without any.
  std::optional<double> share_of_ttft, share_of_e2e;
  double decode_kv_wait_s = 0;        // decode replicas idle while a cache was on its way to them, summed
  double decode_kv_wait_share = 0;    // ... over decode replicas x duration
  int64_t landed_without_room = 0;    // caches that found their decode replica without free blocks
};

// Live migration (policies/migration): the moves, their bytes, and each one's stall (the request
// generates nothing while its cache is on its way).
struct MigrationSummary {
  bool enabled = false;
  int64_t moves = 0;
  double bytes = 0;
  LatencyStats stall;
};

struct RunSummary {
  std::string scenario;
  uint64_t seed = 0;
  std::string model;
  std::string perf_model;
  std::string power_model;
  bool partial = false;               // the run was stopped at a limit (RunResult::partial)
  std::string stop_reason;
  int64_t requests_arrived = 0, requests_completed = 0, requests_rejected = 0, requests_truncated = 0;
  int64_t requests_unfinished = 0;    // arrived, not rejected, not completed when a partial run stopped
  std::map<std::string, int64_t> rejected_by_reason;  // "overlength", or the admission policy's reasons
  int64_t prompt_tokens = 0, output_tokens = 0;
  int64_t preemptions = 0;
  int64_t swaps = 0;                  // preemptions by swap to host memory (replica events, all of them)
  PrefixCacheStats prefix;            // summed over replicas; lookups 0 when no replica has a prefix cache
  MigrationSummary migration;
  double duration_s = 0;
  LatencyStats ttft, tbt, tpot, e2e, queue;
  double throughput_rps = 0, throughput_tok_s = 0;
  std::optional<double> slo_attainment;  // undefined when no request arrived
  double goodput_rps = 0;
  std::vector<SloOutcome> slos;
  int total_gpus = 0, deployed_gpus = 0;
  // Busy: the share of time an iteration is in flight (not how hard the GPU works), over every GPU of the
  // cluster and over the GPUs that hold replicas.
  double gpu_util_mean = 0;
  double gpu_util_deployed_mean = 0;
  // What the GPUs that hold replicas achieve: FLOPs over the dense fp16 peak (MFU) and HBM bytes over the
  // spec bandwidth (MBU), time averages over the run, from the perf model's account of each iteration.
  double compute_util_mean = 0;
  double memory_bw_util_mean = 0;
  double deployed_gpu_power_w = 0;    // mean power of one GPU that holds a replica
  // Whole servers: the GPUs plus everything else (CPUs, fans, NICs, switches; the node catalog's
  // non_gpu_idle_w..non_gpu_max_w, in proportion to how hard the node's GPUs work).
  double server_energy_kwh = 0, server_mean_power_w = 0;
  // The facility (the scenario's power: section): servers x PUE; the readings every telemetry interval.
  double pue = 1;
  double facility_energy_kwh = 0, facility_mean_power_w = 0;
  double it_power_peak_w = 0, it_power_p99_w = 0;  // servers' power at the telemetry interval
  double power_budget_w = 0;                        // 0: none
  double time_over_budget_s = 0;
  int64_t breaker_trips = 0;
  std::string power_controller;  // the scenario's power.controller type ("none" when unset)
  std::vector<DomainPowerStats> power_domains;  // racks, then rows (power.racks, power.rows)
  int64_t cap_events = 0, release_events = 0;
  std::optional<double> carbon_kg;                  // when the scenario gives carbon_g_per_kwh
  double capped_gpu_s = 0;            // GPU-seconds run at a clock lowered by a power limit
  double peak_gpu_power_w = 0;        // the highest mean power of one GPU over one iteration
  double energy_kwh = 0, mean_power_w = 0;
  TransferSummary kv;
  FleetCost hardware;
  bool cluster_auto = false;          // the cluster was sized from the deployment; `hardware` lists its nodes
  double energy_usd_per_hour = 0;
  double cost_usd_per_hour = 0;       // hardware + priced energy
  double cost_usd_total = 0;          // over duration_s
  std::optional<double> cost_usd_per_mtok;  // per million output tokens; undefined without output
};

RunSummary Summarize(const Scenario& scenario, const Catalog& catalog, RunResult& run);

}  // namespace gpufleet
