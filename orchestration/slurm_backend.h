// `gpufleet sweep --backend slurm`: the sweep as Slurm jobs instead of local children. One job array whose
// task I runs `gpufleet sweep SWEEP --tasks K --task I --jobs 1` into its own shard (DIR/shard-I.db), and a
// job that depends on the whole array (afterany) and merges the shards into the database, then runs the
// sweep once more against it (registering the sweep and running any point a task missed: docs/sweep.md,
// "Running on a cluster"). The batch scripts are written into DIR, beside the database, for the user to read
// or resubmit; sbatch is the only thing this talks to, so a fake sbatch on PATH tests it without Slurm.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace gpufleet {

struct SlurmSweepOptions {
  std::string sbatch;      // the sbatch binary (FindOnPath)
  std::string binary;      // the gpufleet binary, absolute: the jobs run it
  std::string sweep_file;  // absolute
  std::string sweep_name;  // names the jobs
  std::string db;          // the run database, absolute; the shard folder is DB.slurm
  int64_t tasks = 1;       // array tasks (K), 1 or more
  int max_concurrent = 0;  // array tasks running at once (%M), 0 for Slurm's own limit
  std::string partition;   // empty: the cluster's default partition
};

struct SlurmSweepJobs {
  std::string dir;           // the shard folder: scripts, shards, logs, merge.rc
  std::string array_job;     // job ids as sbatch printed them
  std::string merge_job;
  std::string array_script;  // paths of the scripts submitted
  std::string merge_script;
};

// The absolute path of `name` found on PATH, or NotFound.
absl::StatusOr<std::string> FindOnPath(const std::string& name);

// Helpers shared with the plan's Slurm runner (slurm_jobs.h).
// `s` single-quoted for bash: 'it'\''s'.
std::string ShellQuote(const std::string& s);
// Writes a batch script (mode 0744); InvalidArgument naming the path when it cannot.
absl::Status WriteBatchScript(const std::string& path, const std::string& text);
// The #SBATCH lines every script starts with: job name, output log, and the partition unless empty.
std::string SbatchHeader(const std::string& job_name, const std::string& log, const std::string& partition);

// Writes the scripts and submits the two jobs. InvalidArgument before anything is submitted when the shard
// folder holds shards of an earlier submission (still running, or its merge failed); Unavailable when
// sbatch fails (its output in the message). A failed second sbatch leaves the array submitted and says so.
absl::StatusOr<SlurmSweepJobs> SubmitSlurmSweep(const SlurmSweepOptions& options);

// Polls `squeue` (the given binary) every few seconds until the merge job has ended; returns the merge
// job's exit code as it recorded it in DIR/merge.rc (0: every point is in the database; 1: some failed).
// Unavailable when the merge job left the queue without recording one (cancelled, timed out, node lost).
absl::StatusOr<int> WaitForSlurmSweep(const SlurmSweepJobs& jobs, const std::string& squeue);

}  // namespace gpufleet
