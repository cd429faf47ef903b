// `gpufleet plan --backend slurm`: the planner's batches of simulations as Slurm job arrays instead of local
// children. Each batch (one round of the capacity search, one verification step) becomes DIR/batch-N/ with
// `commands` (one shell-quoted `gpufleet simulate ...` line per job) and `array.sbatch`, whose task I runs
// line I+1 into out-I.json / err-I.log / rc-I; `sbatch --wait` blocks until every task has ended and the
// results are read back from those files. Recorded runs (`--db X`) write per-task shards that are merged
// into X afterwards, so no two compute nodes write one SQLite file. Like slurm_backend.h, sbatch (and
// scancel, on an interrupt) is all this talks to, so a fake sbatch on PATH tests it without Slurm.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/simulate_jobs.h"

namespace gpufleet {

struct SlurmJobsOptions {
  std::string sbatch;      // the sbatch binary (FindOnPath)
  std::string scancel;     // the scancel binary, or empty: an interrupted batch is left queued (the error says so)
  std::string binary;      // the gpufleet binary, absolute: the tasks run it
  std::string dir;         // absolute, on a file system the compute nodes share: DIR/batch-N/
  std::string job_name;    // --job-name of every array
  std::string partition;   // empty: the cluster's default partition
  int max_concurrent = 0;  // array tasks running at once (%M), 0 for Slurm's own limit
  double db_wait_s = 120;  // retrying a locked database while merging shards
};

// The same type as PlanJobRunner (orchestration/plan/plan_sims.h): runs `gpufleet` with each argument list,
// results in the jobs' order; `on_done(done, total)` is called once, when the whole batch has ended.
using SlurmJobRunner = std::function<absl::StatusOr<std::vector<JobResult>>(
    const std::vector<std::vector<std::string>>& jobs, const std::function<void(size_t, size_t)>& on_done)>;

// Claims DIR for this process and returns the runner; the claim (DIR/in-use, "HOST PID") is released when
// the last copy of the runner is destroyed. InvalidArgument, before anything is written, when DIR cannot be
// created or another live gpufleet holds it (a claim of a process that is gone, on this host, is taken
// over). Batch folders of an earlier, finished run are deleted: batches count from 0 in every run.
//
// Per batch: a task that recorded no exit code (cancelled, timed out, node lost) gives a result that is not
// an exit (so the planner does not cache it) whose error_line names its log, and a batch none of whose tasks
// recorded one is Unavailable; a task's exit code above 128
// is read as the signal that killed the simulation, as locally. Unavailable when sbatch fails before
// submitting (its output in the message); Cancelled on SIGINT/SIGTERM once InstallSweepSignalHandlers ran,
// after `scancel` of the submitted array.
absl::StatusOr<SlurmJobRunner> MakeSlurmJobRunner(SlurmJobsOptions options);

}  // namespace gpufleet
