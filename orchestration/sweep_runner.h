// Runs a sweep's points on this machine: the points not yet in the database, `jobs` child processes at
// once, each `gpufleet simulate` writing its run into its own shard (DB.work/KEY-PID.db); the sweep
// process, the database's only writer, merges each finished shard into the database (point row
// included, one transaction: sweep_db.h) on its merger thread (point_merger.h) and deletes it. A failed point is recorded with the last line of
// its stderr and does not stop the others. SIGINT/SIGTERM stop the children and leave whole points only.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_spec.h"

namespace gpufleet {

struct SweepRunOptions {
  std::string db;      // the run database (checked by the caller)
  int jobs = 1;        // children at once
  std::string binary;  // the gpufleet binary the children run
  bool terminal = false;  // stderr is a terminal: one progress line redrawn, else a line per point
};

struct SweepRunResult {
  int64_t total = 0;      // points of the sweep
  int64_t already = 0;    // found in the database before this run
  int64_t ok = 0;         // run and merged now
  int64_t failed = 0;     // run now and failed
  int stop_signal = 0;    // SIGINT/SIGTERM that stopped the sweep early, or 0
  double wall_s = 0;      // the sweep's wall time
  double points_wall_s = 0;  // sum of the points' own wall times (spawn to exit), ok and failed
};

// Options to run on this machine: this binary, `jobs` children (0: one per core), a progress line when
// stderr is a terminal.
absl::StatusOr<SweepRunOptions> LocalSweepOptions(const std::string& db, int jobs);

// Errors: the database could not take a point (after its retries), or a child could not be started.
absl::StatusOr<SweepRunResult> RunSweep(const SweepSpec& spec, const SweepPlan& plan, const SweepRunOptions& options);

}  // namespace gpufleet
