// Appends a finished run to an SQLite database (created if absent), in one transaction.
//
// Schema version 2 (sqlite_db.h), documented in docs/sqlite-schema.md: runs (the scenario text, seed, models used),
// run_summary (one column per numeric summary metric), slo_results, replicas, gpus, costs, requests
// (one row per request, only when asked: they can be millions) and series (the run's time series, when it
// recorded one). A crash or Ctrl-C mid-write leaves the database as it was: SQLite rolls the unfinished
// transaction back. A database locked by other writers is retried, with backoff, for up to `wait_s`.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/power_stats.h"
#include "sim/metrics/request_log.h"
#include "sim/metrics/series.h"
#include "sim/report/sqlite_db.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct SqliteWriteOptions {
  const RequestSpool* requests = nullptr;  // the run's per-request rows, when it kept them
  const SeriesSpool* series = nullptr;     // the run's time series, when it recorded one
  const PowerSeriesSpool* power_series = nullptr;  // its power readings per domain, when it recorded them
  double wait_s = 120;                  // how long to keep retrying a database locked by other writers
  std::string created_at;               // runs.created_at: UTC, YYYY-MM-DDTHH:MM:SSZ
  std::string run_uid;                  // runs.run_uid (NewRunUid): the run's identity across databases
};

// A new run identity: the time, the process and a hash of the scenario text, seed and version; safe in a
// file name (the side file of a run its database could not take is named after it).
std::string NewRunUid(const Scenario& scenario);

// Returns the new run_id. Errors: InvalidArgument for a file that is no gpufleet database (bad input);
// Unavailable when still locked after wait_s; ResourceExhausted / DataLoss for a full disk or an I/O error.
absl::StatusOr<int64_t> AppendRunToSqlite(const std::string& db_path, const Scenario& scenario,
                                          const RunSummary& summary, const RunResult& run,
                                          const SqliteWriteOptions& options);

}  // namespace gpufleet
