// See slurm_backend.h. The scripts are plain bash with #SBATCH lines, so `sbatch DIR/array.sbatch` by hand
// does what gpufleet did; only the dependency is given on sbatch's command line (it names a job id).
#include "orchestration/slurm_backend.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace gpufleet {
namespace {

namespace fs = std::filesystem;

// Runs a shell command line; its stdout and stderr together, and its exit code (-1 when it did not exit).
struct Captured {
  int exit_code = -1;
  std::string output;
};
Captured Capture(const std::string& command) {
  Captured r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Header(const SlurmSweepOptions& o, const std::string& job_name, const std::string& log) {
  return SbatchHeader(job_name, log, o.partition);
}

std::string ArrayScript(const SlurmSweepOptions& o, const std::string& dir) {
  std::string array = absl::StrCat("0-", o.tasks - 1);
  if (o.max_concurrent > 0) absl::StrAppend(&array, "%", o.max_concurrent);
  return absl::StrCat(
      "#!/bin/bash\n",
      // #SBATCH lines must come before the first command; the comments after them are for the reader.
      Header(o, "gpufleet-" + o.sweep_name, dir + "/task-%a.log"), "#SBATCH --array=", array, "\n",
      "# gpufleet sweep ", o.sweep_name, ": array task I of ", o.tasks, " runs the points whose index modulo ",
      o.tasks, " is I,\n# one at a time, into its own shard; merge.sbatch joins the shards.\n",
      "exec ", ShellQuote(o.binary), " sweep ", ShellQuote(o.sweep_file), " --tasks ", o.tasks,
      " --task \"$SLURM_ARRAY_TASK_ID\" --jobs 1 --db ", ShellQuote(dir), "/shard-\"$SLURM_ARRAY_TASK_ID\".db\n");
}

std::string MergeScript(const SlurmSweepOptions& o, const std::string& dir) {
  const std::string bin = ShellQuote(o.binary);
  return absl::StrCat(
      "#!/bin/bash\n", Header(o, "gpufleet-" + o.sweep_name + "-merge", dir + "/merge.log"),
      "# gpufleet sweep ", o.sweep_name, ": runs once every array task has ended, however it ended\n",
      "# (afterany). Merges the shards into the database, then runs the sweep against it: that registers\n",
      "# the sweep and runs any point a task missed. Its exit code goes to merge.rc for `--wait`.\n",
      "set -u\ndir=", ShellQuote(dir), "\nrc=0\nshards=()\n",
      "for i in $(seq 0 ", o.tasks - 1, "); do\n",
      "  if [ -f \"$dir/shard-$i.db\" ]; then shards+=(\"$dir/shard-$i.db\"); fi\n",
      "done\n",
      "if [ ${#shards[@]} -gt 0 ]; then ", bin, " merge ", ShellQuote(o.db), " \"${shards[@]}\" || rc=$?; fi\n",
      "if [ $rc -eq 0 ]; then\n  ", bin, " sweep ", ShellQuote(o.sweep_file), " --db ", ShellQuote(o.db),
      " --jobs \"${SLURM_CPUS_ON_NODE:-1}\" || rc=$?\nfi\n",
      "# Merged: the shards are no longer needed (a next submission refuses to start while they exist).\n",
      "if [ $rc -eq 0 ]; then\n",
      "  for s in \"${shards[@]}\"; do rm -f \"$s\" \"$s-journal\" \"$s-wal\" \"$s-shm\"; done\n",
      "fi\n",
      "echo $rc > \"$dir/merge.rc\"\nexit $rc\n");
}

// sbatch --parsable prints "ID" or "ID;CLUSTER" on its last line.
absl::StatusOr<std::string> Submit(const std::string& sbatch, const std::vector<std::string>& args) {
  std::string cmd = ShellQuote(sbatch) + " --parsable";
  for (const std::string& a : args) absl::StrAppend(&cmd, " ", ShellQuote(a));
  const Captured r = Capture(cmd);
  std::vector<std::string> lines = absl::StrSplit(r.output, '\n', absl::SkipWhitespace());
  std::string id = lines.empty() ? "" : std::string(absl::StripAsciiWhitespace(lines.back()));
  id = id.substr(0, id.find(';'));
  uint64_t number = 0;
  if (r.exit_code != 0 || !absl::SimpleAtoi(id, &number)) {
    return absl::UnavailableError(absl::StrCat("sbatch ", absl::StrJoin(args, " "), " failed (exit code ",
                                               r.exit_code, "): ", absl::StripAsciiWhitespace(r.output)));
  }
  return id;
}

}  // namespace

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

absl::Status WriteBatchScript(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write the batch script"));
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read, ec);
  return absl::OkStatus();
}

std::string SbatchHeader(const std::string& job_name, const std::string& log, const std::string& partition) {
  std::string h = absl::StrCat("#SBATCH --job-name=", job_name, "\n#SBATCH --output=", log, "\n");
  if (!partition.empty()) absl::StrAppend(&h, "#SBATCH --partition=", partition, "\n");
  return h;
}

absl::StatusOr<std::string> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (const auto dir : absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat(name, " not found on PATH"));
}

absl::StatusOr<SlurmSweepJobs> SubmitSlurmSweep(const SlurmSweepOptions& o) {
  SlurmSweepJobs jobs;
  jobs.dir = o.db + ".slurm";
  std::error_code ec;
  fs::create_directories(jobs.dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(jobs.dir, ": cannot create the shard folder: ", ec.message()));
  // Shards left here belong to a submission whose merge has not succeeded: merging them twice is harmless,
  // but a new array writing over them while the old one runs is not.
  for (const auto& entry : fs::directory_iterator(jobs.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("shard-", 0) == 0 && entry.path().extension() == ".db") {
      return absl::InvalidArgumentError(absl::StrCat(
          jobs.dir, " holds shards of an earlier submission (still running, or its merge failed: see ", jobs.dir,
          "/merge.log); merge them with `gpufleet merge ", o.db, " ", jobs.dir, "/shard-*.db`, or delete them"));
    }
  }
  fs::remove(jobs.dir + "/merge.rc", ec);
  jobs.array_script = jobs.dir + "/array.sbatch";
  jobs.merge_script = jobs.dir + "/merge.sbatch";
  if (auto st = WriteBatchScript(jobs.array_script, ArrayScript(o, jobs.dir)); !st.ok()) return st;
  if (auto st = WriteBatchScript(jobs.merge_script, MergeScript(o, jobs.dir)); !st.ok()) return st;
  auto array = Submit(o.sbatch, {jobs.array_script});
  if (!array.ok()) return array.status();
  jobs.array_job = *array;
  auto merge = Submit(o.sbatch, {"--dependency=afterany:" + jobs.array_job, jobs.merge_script});
  if (!merge.ok()) {
    return absl::UnavailableError(absl::StrCat(merge.status().message(), "; the array job ", jobs.array_job,
                                               " was submitted: cancel it (scancel ", jobs.array_job,
                                               ") or submit ", jobs.merge_script, " once it ends"));
  }
  jobs.merge_job = *merge;
  return jobs;
}

absl::StatusOr<int> WaitForSlurmSweep(const SlurmSweepJobs& jobs, const std::string& squeue) {
  const std::string rc_file = jobs.dir + "/merge.rc";
  const std::string query = absl::StrCat(ShellQuote(squeue), " -h -j ", jobs.merge_job, " -o %T");
  auto recorded = [&]() -> std::optional<int> {
    std::ifstream in(rc_file);
    int rc = 0;
    if (in >> rc) return rc;
    return std::nullopt;
  };
  int gone_polls = 0;
  while (true) {
    if (auto rc = recorded()) return *rc;
    // squeue prints nothing, or fails with "Invalid job id", once the job has left the queue. The rc file
    // may reach this machine's view of a shared file system a little later: look a few more times.
    const Captured r = Capture(query);
    const bool gone = r.exit_code != 0 || absl::StripAsciiWhitespace(r.output).empty();
    gone_polls = gone ? gone_polls + 1 : 0;
    if (gone_polls > 5) {
      return absl::UnavailableError(absl::StrCat("the merge job ", jobs.merge_job, " left the queue without finishing "
                                                 "(cancelled, timed out, or its node failed): see ", jobs.dir,
                                                 "/merge.log; the shards are still in ", jobs.dir));
    }
    std::this_thread::sleep_for(std::chrono::seconds(gone ? 1 : 2));
  }
}

}  // namespace gpufleet
