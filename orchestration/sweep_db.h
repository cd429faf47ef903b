// The sweep tables of a run database (sweeps, sweep_points: docs/sqlite-schema.md), as `gpufleet sweep`
// writes them. A point's row travels inside its shard: the sweep tags the shard's one run with its
// sweep_points row, and the merge (sqlite_merge.h) copies the run and that row in one transaction, so the
// database holds a point whole or not at all whatever moment the sweep is stopped. Failed points (no run)
// are written to the database directly.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_spec.h"

namespace gpufleet {

// Creates the schema if needed and records the sweep (once per sweep_id) in `db_path`.
absl::Status RegisterSweep(const std::string& db_path, const SweepSpec& spec, const SweepPlan& plan,
                           const std::string& created_at);

struct SweepState {
  std::set<std::string> done;    // keys with a run (status ok, in this or any other sweep)
  std::set<std::string> failed;  // keys of this sweep with a failed row (a success replaces it)
};
// Where `plan` stands in `db_path`. Points found only in another sweep are linked to this one (a new
// sweep_points row for the same run, stamped `now`). A database that does not exist yet has nothing.
absl::StatusOr<SweepState> FinishedPoints(const std::string& db_path, const SweepPlan& plan, const std::string& now);

// Read-only: the point keys with a finished run in `db_path` (none when it does not exist yet).
absl::StatusOr<std::set<std::string>> FinishedKeys(const std::string& db_path);

// Inserts the point's ok row into `shard`, whose single run the point produced.
absl::Status TagShard(const std::string& shard, const std::string& sweep_id, const SweepPoint& point,
                      double wall_s, const std::string& finished_at);

// After the point's shard was merged: drops rows of earlier failed attempts at it.
absl::Status ClearFailures(const std::string& db_path, const std::string& sweep_id, const std::string& key);

// Records a failed point (no run) with its error, replacing earlier failed attempts.
absl::Status RecordFailure(const std::string& db_path, const std::string& sweep_id, const SweepPoint& point,
                           const std::string& error, double wall_s, const std::string& finished_at);

}  // namespace gpufleet
