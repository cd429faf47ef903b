// Appends a finished run to an SQLite database (created if absent), in one transaction.
//
// Schema version 1, documented in docs/sqlite-schema.md: runs (the scenario text, seed, models used),
// run_summary (one column per numeric summary metric), slo_results, replicas, gpus, costs, requests
// (one row per request, only when asked: they can be millions) and series (the run's time series, when it
// recorded one). A crash or Ctrl-C mid-write leaves the database as it was: SQLite rolls the unfinished
// transaction back.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

inline constexpr int kSqliteSchemaVersion = 1;

struct SqliteWriteOptions {
  bool per_request = false;
};

// Returns the new run_id.
absl::StatusOr<int64_t> AppendRunToSqlite(const std::string& db_path, const Scenario& scenario,
                                          const RunSummary& summary, const RunResult& run,
                                          const SqliteWriteOptions& options);

}  // namespace gpufleet
