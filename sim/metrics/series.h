// Time series of a run: one row per replica and one fleet row per sample time, for load, queue, KV and
// power over time (diurnal traces, bursts). Filled by sim/engine/series_sampler into a SeriesSpool
// (spool.h); written as CSV here and to SQLite by sim/report/sqlite_report. Definitions of the columns:
// docs/sqlite-schema.md#series.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/metrics/spool.h"

namespace gpufleet {

inline constexpr double kMinSeriesIntervalS = 1e-3;
inline constexpr int kFleetRow = -1;  // SeriesSample::replica of the fleet row

// The interval (previous sample's t_s, t_s]: counters are what happened within it, the state is as of t_s.
struct SeriesSample {
  double t_s = 0;
  int replica = kFleetRow;
  int64_t waiting = 0;          // requests queued, not running (new or preempted)
  int64_t running = 0;          // sequences holding KV blocks
  int64_t kv_used_blocks = 0;
  int64_t kv_total_blocks = 0;
  double busy_s = 0;            // iteration time within the interval (fleet: summed over replicas)
  double util = 0;              // busy share of the interval (fleet: over deployed GPUs, GPU-weighted)
  int64_t output_tokens = 0;
  int64_t completed = 0;
  int64_t arrivals = 0;         // replica: requests routed to it; fleet: requests arrived (rejected included)
  double power_w = 0;           // mean GPU power over the interval (fleet: every GPU of the cluster)
};

using SeriesSpool = Spool<SeriesSample>;

// Writes a header and one line per sample to `path`, through a temporary and a rename (atomic_file.h), so a
// failed write never leaves a partial file under `path`. Streams: memory stays flat however long the series.
absl::Status WriteSeriesCsv(const std::string& path, const SeriesSpool& samples);

}  // namespace gpufleet
