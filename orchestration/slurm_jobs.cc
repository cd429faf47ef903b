// See slurm_jobs.h. Like the sweep's scripts (slurm_backend.cc), array.sbatch is plain bash with #SBATCH
// lines: `sbatch DIR/batch-N/array.sbatch` by hand reruns a batch.
#include "orchestration/slurm_jobs.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "orchestration/child_processes.h"
#include "orchestration/slurm_backend.h"
#include "sim/report/sqlite_merge.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LastNonEmptyLine(const std::string& path) {
  std::ifstream in(path);
  std::string last;
  for (std::string line; std::getline(in, line);)
    if (!absl::StripAsciiWhitespace(line).empty()) last = line;
  return last;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

// DIR/in-use holds "HOST PID" of the gpufleet using DIR; it goes when the runner does.
struct Claim {
  std::string marker;
  ~Claim() {
    std::error_code ec;
    fs::remove(marker, ec);
  }
};

absl::StatusOr<std::unique_ptr<Claim>> ClaimDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(dir, ": cannot create the Slurm folder: ", ec.message()));
  const std::string marker = dir + "/in-use";
  const std::string host = HostName();
  if (fs::exists(marker)) {
    std::vector<std::string> owner = absl::StrSplit(absl::StripAsciiWhitespace(ReadAll(marker)), ' ');
    int pid = 0;
    const bool here = owner.size() == 2 && owner[0] == host && absl::SimpleAtoi(owner[1], &pid) && pid > 0;
    const bool gone = here && kill(pid, 0) != 0 && errno == ESRCH;
    if (!gone) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, " is in use by another gpufleet plan (", marker, ": ", absl::StripAsciiWhitespace(ReadAll(marker)),
          "); give this plan another --slurm-dir, or delete ", marker, " if that plan is no longer running"));
    }
  }
  // Batch folders left here are an earlier, finished run's: its results are in its plan's output already.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("batch-", 0) == 0) fs::remove_all(entry.path(), ec);
  }
  std::ofstream(marker, std::ios::trunc) << host << " " << getpid() << "\n";
  if (!fs::exists(marker)) return absl::InvalidArgumentError(absl::StrCat(marker, ": cannot write it"));
  return std::make_unique<Claim>(Claim{marker});
}

// sbatch runs under stdbuf (see RunBatch), and the job inherits sbatch's environment: these lines give
// the tasks this process's own LD_PRELOAD back.
std::string UndoStdbuf(const char* preload) {
  if (preload == nullptr) return "unset LD_PRELOAD _STDBUF_O\n";
  return absl::StrCat("export LD_PRELOAD=", ShellQuote(preload), "\nunset _STDBUF_O\n");
}

std::string ArrayScript(const SlurmJobsOptions& o, const std::string& dir, const std::string& cwd, size_t tasks,
                        int batch, const std::string& undo_stdbuf) {
  std::string array = absl::StrCat("0-", tasks - 1);
  if (o.max_concurrent > 0) absl::StrAppend(&array, "%", o.max_concurrent);
  return absl::StrCat(
      "#!/bin/bash\n", SbatchHeader(o.job_name, dir + "/task-%a.log", o.partition), "#SBATCH --chdir=", cwd, "\n",
      "#SBATCH --array=", array, "\n",
      "# gpufleet plan, batch ", batch, ": array task I runs line I+1 of `commands` (one simulation), its stdout\n",
      "# into out-I.json, its stderr into err-I.log, its exit code into rc-I. The task itself exits 0: the\n",
      "# simulation's own failure is in rc-I, and `sbatch --wait` reports only what went wrong in Slurm.\n",
      undo_stdbuf, "dir=", ShellQuote(dir), "\ni=$SLURM_ARRAY_TASK_ID\n",
      "echo \"$SLURM_ARRAY_JOB_ID\" > \"$dir/job-id\"\n",
      "cmd=$(sed -n \"$((i + 1))p\" \"$dir/commands\")\n",
      "eval \"$cmd\" > \"$dir/out-$i.json\" 2> \"$dir/err-$i.log\"\n",
      "echo $? > \"$dir/rc-$i.tmp\" && mv \"$dir/rc-$i.tmp\" \"$dir/rc-$i\"\n");
}

// The job id sbatch --parsable printed ("ID" or "ID;CLUSTER"), else the one the first task recorded.
std::string JobId(const std::string& dir) {
  for (const std::string& file : {dir + "/sbatch.out", dir + "/job-id"}) {
    std::vector<std::string> lines = absl::StrSplit(ReadAll(file), '\n', absl::SkipWhitespace());
    for (const std::string& l : lines) {
      std::string id(absl::StripAsciiWhitespace(l));
      id = id.substr(0, id.find(';'));
      uint64_t n = 0;
      if (absl::SimpleAtoi(id, &n)) return id;
    }
  }
  return "";
}

struct State {
  SlurmJobsOptions o;
  std::string cwd;
  std::string stdbuf;  // coreutils' stdbuf, or empty
  std::unique_ptr<Claim> claim;
  int next_batch = 0;
};

// Stops the batch: waits for sbatch (`sbatch`, 0 when it has been reaped), which the signal handler sent
// SIGTERM, then cancels the array (its id from sbatch or a task: a killed `sbatch --wait` leaves it queued).
absl::Status Cancel(const State& s, const std::string& dir, pid_t sbatch) {
  if (sbatch > 0) StopChildren();
  while (sbatch > 0) {
    auto ex = WaitChild();
    if (!ex.ok() || ex->pid == sbatch) break;
  }
  const std::string id = JobId(dir);
  std::string what;
  if (id.empty()) {
    what = absl::StrCat("the job array ", s.o.job_name, " may still be queued: scancel --name=", s.o.job_name);
  } else if (s.o.scancel.empty()) {
    what = absl::StrCat("scancel not found: cancel the job array with scancel ", id);
  } else {
    const int rc = std::system(absl::StrCat(ShellQuote(s.o.scancel), " ", id, " >/dev/null 2>&1").c_str());
    what = rc == 0 ? absl::StrCat("cancelled the job array ", id)
                   : absl::StrCat("scancel ", id, " failed: cancel the job array by hand");
  }
  return absl::CancelledError(absl::StrCat("stopped by a signal; ", what));
}

absl::StatusOr<std::vector<JobResult>> RunBatch(State& s, const std::vector<std::vector<std::string>>& jobs,
                                                const std::function<void(size_t, size_t)>& on_done) {
  if (jobs.empty()) return std::vector<JobResult>();
  const int batch = s.next_batch++;
  const std::string dir = absl::StrCat(s.o.dir, "/batch-", batch);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(dir, ": cannot create the batch folder: ", ec.message()));

  // One command line per job; a recorded run writes its own shard, merged into its database afterwards.
  std::string commands;
  std::vector<std::string> merge_into(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::string line = ShellQuote(s.o.binary);
    const std::vector<std::string>& args = jobs[i];
    for (size_t a = 0; a < args.size(); ++a) {
      std::string arg = args[a];
      if (a > 0 && args[a - 1] == "--db") {
        merge_into[i] = arg;
        arg = absl::StrCat(dir, "/shard-", i, ".db");
      }
      absl::StrAppend(&line, " ", ShellQuote(arg));
    }
    absl::StrAppend(&commands, line, "\n");
  }
  {
    std::ofstream out(dir + "/commands", std::ios::trunc);
    out << commands;
    if (!out) return absl::InvalidArgumentError(absl::StrCat(dir, "/commands: cannot write it"));
  }
  const std::string script = dir + "/array.sbatch";
  const std::string undo_stdbuf = s.stdbuf.empty() ? "" : UndoStdbuf(std::getenv("LD_PRELOAD"));
  GF_RETURN_IF_ERROR(WriteBatchScript(script, ArrayScript(s.o, dir, s.cwd, jobs.size(), batch, undo_stdbuf)));

  // sbatch --parsable prints the job id when it has submitted, then --wait blocks until every task ended.
  // stdbuf makes that line reach sbatch.out at once (stdout to a file is block-buffered), for scancel.
  std::vector<std::string> args = {"--parsable", "--wait", script};
  std::string program = s.o.sbatch;
  if (!s.stdbuf.empty()) {
    args.insert(args.begin(), {"-oL", s.o.sbatch});
    program = s.stdbuf;
  }
  GF_ASSIGN_OR_RETURN(pid_t pid, SpawnChild(program, args, dir + "/sbatch.err", dir + "/sbatch.out"));
  int wait_status = 0;
  while (true) {
    GF_ASSIGN_OR_RETURN(ChildExit ex, WaitChild());
    if (StopSignal() != 0) return Cancel(s, dir, ex.pid == pid ? 0 : pid);
    if (ex.pid == pid) {
      wait_status = ex.wait_status;
      break;
    }
  }
  const std::string id = JobId(dir);
  if (!(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) && id.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "sbatch --wait ", script, " failed (", DescribeWaitStatus(wait_status), "): ",
        absl::StripAsciiWhitespace(ReadAll(dir + "/sbatch.err") + ReadAll(dir + "/sbatch.out"))));
  }

  std::vector<JobResult> out(jobs.size());
  size_t recorded = 0;
  for (size_t i = 0; i < jobs.size(); ++i) recorded += fs::exists(absl::StrCat(dir, "/rc-", i)) ? 1 : 0;
  if (recorded == 0) {
    // Nothing ran (the array was cancelled, or no task could start): no simulation to judge, a failed batch.
    return absl::UnavailableError(absl::StrCat(
        "the Slurm job array ", id.empty() ? s.o.job_name : id, " of ", script,
        " ended without any task recording an exit code (cancelled, timed out, or its tasks could not start): see ",
        dir, "/task-0.log and ", dir, "/sbatch.err"));
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobResult& r = out[i];
    const std::string rc_file = absl::StrCat(dir, "/rc-", i);
    int rc = 0;
    if (!(std::ifstream(rc_file) >> rc)) {
      // No exit: the planner remembers no result of this run (plan_sims.cc caches exits only).
      r.wait_status = SIGKILL;
      r.error_line = absl::StrCat("Slurm array task ", i, id.empty() ? "" : " of job " + id,
                                  " recorded no exit code (cancelled, timed out, or its node failed): see ", dir,
                                  "/task-", i, ".log");
      continue;
    }
    // bash reports a command killed by signal N as 128+N.
    r.wait_status = rc > 128 && rc <= 128 + 64 ? rc - 128 : W_EXITCODE(rc & 0xff, 0);
    r.out = ReadAll(absl::StrCat(dir, "/out-", i, ".json"));
    r.error_line = LastNonEmptyLine(absl::StrCat(dir, "/err-", i, ".log"));
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (merge_into[i].empty()) continue;
    const std::string shard = absl::StrCat(dir, "/shard-", i, ".db");
    if (!fs::exists(shard)) continue;  // the run failed before writing it
    auto merged = MergeRunDatabase(merge_into[i], shard, s.o.db_wait_s);
    if (!merged.ok()) {
      return absl::Status(merged.status().code(), absl::StrCat("merging ", shard, " into ", merge_into[i], ": ",
                                                              merged.status().message(), " (the shard is kept)"));
    }
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(shard + suffix, ec);
  }
  if (on_done) on_done(jobs.size(), jobs.size());
  return out;
}

}  // namespace

absl::StatusOr<SlurmJobRunner> MakeSlurmJobRunner(SlurmJobsOptions options) {
  auto state = std::make_shared<State>();
  state->o = std::move(options);
  std::error_code ec;
  state->cwd = fs::current_path(ec).string();
  if (auto stdbuf = FindOnPath("stdbuf"); stdbuf.ok()) state->stdbuf = *stdbuf;
  GF_ASSIGN_OR_RETURN(state->claim, ClaimDir(state->o.dir));
  return SlurmJobRunner([state](const std::vector<std::vector<std::string>>& jobs,
                                const std::function<void(size_t, size_t)>& on_done) {
    return RunBatch(*state, jobs, on_done);
  });
}

}  // namespace gpufleet
