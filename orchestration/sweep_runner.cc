// See sweep_runner.h. This loop only starts and reaps children; the database writes happen on the merger
// thread (point_merger.h), in the order the points finished.
#include "orchestration/sweep_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "orchestration/child_processes.h"
#include "orchestration/point_merger.h"
#include "orchestration/sweep_db.h"
#include "orchestration/sweep_progress.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

using Clock = std::chrono::steady_clock;

struct Running {
  const SweepPoint* point;
  std::string shard;
  std::string err;
  Clock::time_point start;
};

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

absl::StatusOr<SweepRunResult> RunSweep(const SweepSpec& spec, const SweepPlan& plan, const SweepRunOptions& options) {
  const auto start = Clock::now();
  SweepRunResult result;
  result.total = static_cast<int64_t>(plan.points.size());
  GF_RETURN_IF_ERROR(RegisterSweep(options.db, spec, plan, UtcNow("%Y-%m-%dT%H:%M:%SZ")));
  GF_ASSIGN_OR_RETURN(SweepState state, FinishedPoints(options.db, plan, UtcNow("%Y-%m-%dT%H:%M:%SZ")));
  std::vector<const SweepPoint*> todo;
  for (const SweepPoint& p : plan.points) {
    if (state.done.count(p.key) == 0) todo.push_back(&p);
  }
  result.already = result.total - static_cast<int64_t>(todo.size());
  SweepProgress progress(spec.name, static_cast<int64_t>(todo.size()), result.already, options.terminal);
  if (todo.empty()) return result;

  const std::string work = options.db + ".work";
  std::error_code ec;
  std::filesystem::create_directories(work, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(work, ": cannot create the sweep's work folder: ", ec.message()));
  InstallSweepSignalHandlers();
  PointMerger merger(options.db, plan.sweep_id, std::move(state.failed), &progress);
  std::map<pid_t, Running> running;
  absl::Status spawn_error;
  size_t next = 0;
  while (true) {
    const bool go_on = StopSignal() == 0 && merger.healthy() && spawn_error.ok();
    while (go_on && next < todo.size() && static_cast<int>(running.size()) < options.jobs) {
      const SweepPoint* p = todo[next++];
      const std::string stem = absl::StrCat(work, "/", p->key, "-", ::getpid());
      RemoveDatabaseFiles(stem + ".db");
      auto pid = SpawnChild(options.binary, SimulateArgs(spec, *p, stem + ".db"), stem + ".err");
      if (!pid.ok()) {
        spawn_error = pid.status();
        break;
      }
      running[*pid] = Running{p, stem + ".db", stem + ".err", Clock::now()};
    }
    if (running.empty()) break;
    if (!go_on) StopChildren();
    auto exit = WaitChild();
    if (!exit.ok()) {
      spawn_error = exit.status();
      break;
    }
    auto it = running.find(exit->pid);
    if (it == running.end()) continue;  // a signal interrupted the wait
    const Running r = it->second;
    running.erase(it);
    FinishedPoint done{r.point, r.shard, r.err, false, DescribeWaitStatus(exit->wait_status), Since(r.start),
                       static_cast<int>(running.size())};
    done.exited_ok = WIFEXITED(exit->wait_status) && WEXITSTATUS(exit->wait_status) == 0;
    // A child the sweep stopped itself is neither done nor failed: it runs again next time.
    if (!done.exited_ok && (StopSignal() != 0 || !merger.healthy())) {
      RemoveDatabaseFiles(r.shard);
      std::filesystem::remove(r.err, ec);
      continue;
    }
    result.points_wall_s += done.wall_s;
    merger.Push(std::move(done));
  }
  const absl::Status merged = merger.Finish();
  progress.Close();
  std::filesystem::remove(work, ec);  // only when empty: another sweep may share it
  result.ok = merger.ok();
  result.failed = merger.failed();
  result.stop_signal = StopSignal();
  result.wall_s = Since(start);
  GF_RETURN_IF_ERROR(merged);
  GF_RETURN_IF_ERROR(spawn_error);
  return result;
}

absl::StatusOr<SweepRunOptions> LocalSweepOptions(const std::string& db, int jobs) {
  auto binary = SelfExecutable();
  if (!binary.ok()) return binary.status();
  SweepRunOptions options;
  options.db = db;
  options.jobs = jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.binary = *binary;
  options.terminal = isatty(2) != 0;
  return options;
}

}  // namespace gpufleet
