// Runs one validated scenario on SimGrid and returns everything the reports need.
//
// Builds the platform (one host per GPU), places the replicas, and runs the router and every replica from
// one calendar (calendar.h) inside one SimGrid actor: the router pulls arrivals from the workload stream,
// routes them and hands them to replicas.
// Arrivals stop at the horizon; requests already admitted drain to completion, unless the run's limits
// (run_guard.h) stop it first: the result is then partial. One run per process:
// SimGrid allows one s4u::Engine per process. On request, the run also records a time series
// (series_sampler.h) without changing anything else it computes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "sim/engine/replica.h"
#include "sim/metrics/fabric_stats.h"
#include "sim/metrics/power_stats.h"
#include "sim/metrics/request_log.h"
#include "sim/metrics/series.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct RunOptions {
  bool verbose = false;   // SimGrid's own log on stderr
  bool progress = true;   // progress line on a TTY
  double series_interval_s = 0;  // > 0 (at least kMinSeriesIntervalS): record the time series into `series`
  SeriesSpool* series = nullptr;   // required when series_interval_s > 0
  RequestSpool* requests = nullptr;  // when given, receives every request's row (request_log.h)
  // When given, receives every power reading (every power.telemetry_interval_s) of the cluster, each
  // server, rack and row (power_monitor.h).
  PowerSeriesSpool* power_series = nullptr;
};

struct ReplicaResult {
  int replica = 0;
  int group = 0;
  std::string group_name;
  std::string gpu;
  int tensor_parallel = 1;
  std::vector<std::string> hosts;
  ReplicaStats stats;
};

struct GpuResult {
  std::string host;
  std::string gpu;
  std::string node;
  int replica = -1;        // -1: not used by the deployment
  double busy_s = 0;
  double busy_energy_j = 0;  // while iterations ran (idle power included); idle power the rest of the run
  double flops = 0, hbm_bytes = 0;
};

struct RunResult {
  double end_s = 0;                  // simulated time when the last request finished, or when the run stopped
  // Stopped at a limit (run_guard.h) before every request finished: the figures cover [0, end_s], and
  // requests still queued or running are unfinished.
  bool partial = false;
  std::string stop_reason;           // why, when partial
  int64_t arrived = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejected_by_reason;  // "overlength", or the admission policy's reason
  int64_t truncated = 0;
  std::string perf_model_label;
  std::string power_model_label;     // each GPU type's power parameters: derived from spec or fitted
  PowerStats power;                  // the cluster's power readings (power_monitor.h)
  std::vector<ReplicaResult> replicas;
  std::vector<GpuResult> gpus;
  RequestLog log{RequestSloCheck{}};
  // Disaggregated serving (a deployment group with role prefill): the KV transfers and what each link
  // of the fabric carried.
  bool disaggregated = false;
  TransferLog transfers;
  std::vector<LinkStats> links;
  bool migrates = false;             // a live-migration policy ran (policies/migration)
  TransferLog migrations;            // its moves: count, bytes, each one's stall
  int64_t series_samples = 0;        // rows recorded into RunOptions::series (by time, fleet row first)
};

absl::StatusOr<RunResult> RunSimulation(const Scenario& scenario, const Catalog& catalog, const RunOptions& options);

}  // namespace gpufleet
