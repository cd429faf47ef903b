// `gpufleet sweep SWEEP.yaml`: expand a sweep file into points and run the ones the database lacks, each as
// its own `gpufleet simulate` process, merging each into the database as it finishes (docs/sweep.md).
// Everything that can be checked is checked before the first point starts: the sweep file, every point's
// overrides against the base scenario, the database path. With --backend slurm the points run as Slurm jobs
// instead (orchestration/slurm_backend.h) and the command returns once they are submitted.

#include <csignal>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "orchestration/child_processes.h"
#include "orchestration/slurm_backend.h"
#include "orchestration/sweep_db.h"
#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_progress.h"
#include "orchestration/sweep_runner.h"
#include "orchestration/sweep_spec.h"
#include "sim/report/sqlite_db.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

int DryRun(const SweepSpec& spec, const SweepPlan& plan, const std::string& db) {
  auto done = FinishedKeys(db);
  if (!done.ok()) return ReportError(done.status());
  std::printf("sweep %s (%s): %zu points, base %s; %zu already in %s\n", spec.name.c_str(), plan.sweep_id.c_str(),
              plan.points.size(), spec.base.c_str(), done->size(), db.c_str());
  for (const ScenarioOverride& o : spec.fixed) std::printf("  every point: %s=%s\n", o.path.c_str(), o.value.c_str());
  std::printf("%5s  %-16s  %-5s  %s\n", "point", "key", "done", "overrides");
  for (const SweepPoint& p : plan.points) {
    std::printf("%5lld  %-16s  %-5s  %s\n", static_cast<long long>(p.index), p.key.c_str(),
                done->count(p.key) ? "yes" : "no", DescribePoint(p).c_str());
  }
  return 0;
}

struct SlurmFlags {
  std::string partition;
  int max_concurrent = 0;
  bool wait = false;
};

// `--backend slurm`: submits the sweep as a job array plus a merge job (orchestration/slurm_backend.h) and
// returns once they are queued, or with --wait once the merge job has ended (its exit code).
int SubmitToSlurm(const SweepSpec& spec, const SweepPlan& plan, const std::string& sweep_file, const std::string& db,
                  int64_t tasks /* 0: default */, const SlurmFlags& flags) {
  auto sbatch = FindOnPath("sbatch");
  absl::StatusOr<std::string> squeue = std::string();
  if (flags.wait) squeue = FindOnPath("squeue");
  if (!sbatch.ok() || !squeue.ok()) {
    std::fprintf(stderr, "gpufleet: error: --backend slurm: %s; run it where Slurm's client commands are "
                         "installed (a login node)\n",
                 std::string((sbatch.ok() ? squeue : sbatch).status().message()).c_str());
    return 2;
  }
  auto done = FinishedKeys(db);
  if (!done.ok()) return ReportError(done.status());
  size_t already = 0;
  for (const SweepPoint& p : plan.points) already += done->count(p.key);
  if (already == plan.points.size()) {
    std::printf("sweep %s (%s): %zu points, all already in %s; nothing submitted\n", spec.name.c_str(),
                plan.sweep_id.c_str(), plan.points.size(), db.c_str());
    return 0;
  }
  if (already > 0) {
    // The tasks write fresh shards and cannot see the database: they rerun these points.
    std::fprintf(stderr, "gpufleet: warning: %zu of the %zu points are already in %s; the array runs them again "
                         "(the database then holds two runs of each, the report counts one). `gpufleet sweep` "
                         "without --backend runs only the missing ones\n",
                 already, plan.points.size(), db.c_str());
  }
  auto binary = SelfExecutable();
  if (!binary.ok()) return ReportError(binary.status());
  SlurmSweepOptions o;
  o.sbatch = *sbatch;
  o.binary = *binary;
  o.sweep_file = std::filesystem::absolute(sweep_file).lexically_normal().string();
  o.sweep_name = spec.name;
  o.db = std::filesystem::absolute(db).lexically_normal().string();
  // One task per point by default, at most 1000: Slurm's default MaxArraySize is 1001.
  o.tasks = std::min<int64_t>(tasks > 0 ? tasks : 1000, static_cast<int64_t>(plan.points.size()));
  o.max_concurrent = flags.max_concurrent;
  o.partition = flags.partition;
  auto jobs = SubmitSlurmSweep(o);
  if (!jobs.ok()) return ReportError(jobs.status());
  std::printf("sweep %s (%s): %zu points in %lld array tasks: job array %s (tasks 0-%lld%s), merge job %s "
              "(after the array) into %s\n",
              spec.name.c_str(), plan.sweep_id.c_str(), plan.points.size(), static_cast<long long>(o.tasks),
              jobs->array_job.c_str(), static_cast<long long>(o.tasks - 1),
              o.max_concurrent > 0 ? (", " + std::to_string(o.max_concurrent) + " at once").c_str() : "",
              jobs->merge_job.c_str(), o.db.c_str());
  std::printf("  follow: squeue -j %s,%s; logs: %s/task-*.log, %s/merge.log; scripts: %s, %s\n",
              jobs->array_job.c_str(), jobs->merge_job.c_str(), jobs->dir.c_str(), jobs->dir.c_str(),
              jobs->array_script.c_str(), jobs->merge_script.c_str());
  std::fflush(stdout);
  if (!flags.wait) return 0;
  auto rc = WaitForSlurmSweep(*jobs, *squeue);
  if (!rc.ok()) return ReportError(rc.status());
  std::printf("merge job %s: exit code %d (%s)\n", jobs->merge_job.c_str(), *rc,
              *rc == 0 ? "every point is in the database" : "see its log");
  return *rc == 0 ? 0 : 1;
}

}  // namespace

std::function<int()> AddSweepCommand(CLI::App& app) {
  struct Flags {
    std::string sweep;
    std::string db;
    int jobs = 0;
    bool dry_run = false;
    int64_t task = 0;
    int64_t tasks = 1;
    std::string backend = "local";
    SlurmFlags slurm;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("sweep", "Run every point of a parameter sweep (docs/sweep.md) into one database, "
                                              "skipping points already there");
  cmd->add_option("sweep", f->sweep, "Sweep YAML file")->required();
  cmd->add_option("--db", f->db, "Run database (created if absent; default: NAME.db, NAME the sweep's name)");
  cmd->add_option("--jobs,-j", f->jobs, "Points run at once (default: the machine's cores)")->check(CLI::Range(1, 4096));
  cmd->add_flag("--dry-run", f->dry_run, "List the points (overrides, seed, key, whether done) and run nothing");
  cmd->add_option("--tasks", f->tasks, "Split the sweep into this many tasks (one per machine or job; docs/sweep.md)")
      ->check(CLI::Range(int64_t{1}, kMaxSweepPoints));
  cmd->add_option("--task", f->task, "With --tasks K: run only the points whose index modulo K is this (0 to K-1)")
      ->check(CLI::Range(int64_t{0}, kMaxSweepPoints));
  cmd->add_option("--backend", f->backend, "Where the points run: local (children of this process) or slurm "
                                           "(a job array and a merge job; docs/sweep.md)")
      ->check(CLI::IsMember({"local", "slurm"}));
  CLI::Option* partition = cmd->add_option("--partition", f->slurm.partition, "With --backend slurm: the partition");
  CLI::Option* max_concurrent =
      cmd->add_option("--max-concurrent", f->slurm.max_concurrent, "With --backend slurm: array tasks running at once")
          ->check(CLI::Range(1, 1000000));
  CLI::Option* wait = cmd->add_flag("--wait", f->slurm.wait, "With --backend slurm: wait for the merge job to end");
  CLI::Option* jobs = cmd->get_option("--jobs");
  CLI::Option* task = cmd->get_option("--task");
  CLI::Option* tasks = cmd->get_option("--tasks");
  return [f, partition, max_concurrent, wait, jobs, task, tasks]() -> int {
    const bool slurm = f->backend == "slurm";
    for (const CLI::Option* o : {partition, max_concurrent, wait}) {
      if (!slurm && o->count() > 0) {
        std::fprintf(stderr, "gpufleet: error: %s needs --backend slurm\n", o->get_name().c_str());
        return 2;
      }
    }
    // With slurm every array task runs one point at a time and --tasks sets their number; --task is theirs.
    for (const CLI::Option* o : {jobs, task}) {
      if (slurm && o->count() > 0) {
        std::fprintf(stderr, "gpufleet: error: %s does not apply to --backend slurm (each array task runs one point "
                             "at a time; --tasks sets how many tasks, --max-concurrent how many at once)\n",
                     o->get_name().c_str());
        return 2;
      }
    }
    auto spec = LoadSweepSpec(f->sweep);
    if (!spec.ok()) return ReportError(spec.status());
    if (f->task >= f->tasks) {
      std::fprintf(stderr, "gpufleet: error: --task %lld: expected 0 to %lld (--tasks %lld)\n",
                   static_cast<long long>(f->task), static_cast<long long>(f->tasks - 1),
                   static_cast<long long>(f->tasks));
      return 2;
    }
    auto plan = PlanSweep(*spec);
    if (!plan.ok()) return ReportError(plan.status());
    // A task's share; the sweep keeps its id, so the shares merge back into one sweep. (With slurm, --tasks
    // is the number of array tasks, each taking its share the same way.)
    if (!slurm) std::erase_if(plan->points, [&](const SweepPoint& p) { return p.index % f->tasks != f->task; });
    const std::string db = f->db.empty() ? spec->name + ".db" : f->db;
    if (auto st = CheckRunDatabase(db); !st.ok()) return ReportError(st);
    if (f->dry_run) return DryRun(*spec, *plan, db);
    if (slurm) return SubmitToSlurm(*spec, *plan, f->sweep, db, tasks->count() > 0 ? f->tasks : 0, f->slurm);
    auto local = LocalSweepOptions(db, f->jobs);
    if (!local.ok()) return ReportError(local.status());
    const SweepRunOptions& options = *local;
    auto result = RunSweep(*spec, *plan, options);
    if (!result.ok()) {
      std::fprintf(stderr, "gpufleet: the points merged so far are in %s; rerunning the sweep resumes it\n", db.c_str());
      return ReportError(result.status());
    }
    std::printf("sweep %s (%s): %lld points: %lld run now, %lld already in %s, %lld failed; "
                "%.1f s wall, %.1f s in points (--jobs %d)\n",
                spec->name.c_str(), plan->sweep_id.c_str(), static_cast<long long>(result->total),
                static_cast<long long>(result->ok), static_cast<long long>(result->already), db.c_str(),
                static_cast<long long>(result->failed), result->wall_s, result->points_wall_s, options.jobs);
    if (result->stop_signal != 0) {
      const long long left = result->total - result->already - result->ok - result->failed;
      std::fprintf(stderr, "gpufleet: sweep %s (%s): stopped, %lld points not run; %s holds whole points only, "
                           "rerun the same command to finish\n",
                   spec->name.c_str(), result->stop_signal == SIGINT ? "SIGINT" : "SIGTERM", left, db.c_str());
      return 128 + result->stop_signal;
    }
    if (result->failed > 0) {
      std::fprintf(stderr, "gpufleet: %lld points failed (errors in the sweep_points table; `gpufleet report %s "
                           "--sweep %s` lists them); rerunning the sweep retries them\n",
                   static_cast<long long>(result->failed), db.c_str(), spec->name.c_str());
      return 1;
    }
    return 0;
  };
}

}  // namespace gpufleet
