// Runs one validated scenario on SimGrid and returns everything the reports need.
//
// Builds the platform (one host per GPU), places the replicas, starts one actor per replica and the
// router actor, which pulls arrivals from the workload stream, routes them and hands them to replicas.
// Arrivals stop at the horizon; requests already admitted drain to completion. One run per process:
// SimGrid allows one s4u::Engine per process. On request, the run also records a time series
// (series_sampler.h) without changing anything else it computes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "sim/engine/replica.h"
#include "sim/metrics/request_log.h"
#include "sim/metrics/series.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct RunOptions {
  bool verbose = false;   // SimGrid's own log on stderr
  bool progress = true;   // progress line on a TTY
  double series_interval_s = 0;  // > 0 (at least kMinSeriesIntervalS): fill RunResult::series
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
};

struct RunResult {
  double end_s = 0;                  // simulated time when the last request finished
  int64_t arrived = 0;
  int64_t rejected = 0;
  int64_t truncated = 0;
  std::string perf_model_label;
  std::vector<ReplicaResult> replicas;
  std::vector<GpuResult> gpus;
  RequestLog log{RequestSloCheck{}};
  std::vector<SeriesSample> series;  // by time, each time's fleet row first; empty unless asked for
};

absl::StatusOr<RunResult> RunSimulation(const Scenario& scenario, const Catalog& catalog, const RunOptions& options);

}  // namespace gpufleet
