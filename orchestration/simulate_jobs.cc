// Running a batch of child processes with captured output (see simulate_jobs.h).
#include "orchestration/simulate_jobs.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "orchestration/child_processes.h"
#include "sim/util/status_macros.h"

namespace gpufleet {

bool JobResult::ok() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

absl::StatusOr<std::vector<JobResult>> RunJobs(const std::string& binary, const std::vector<std::vector<std::string>>& jobs,
                                               int parallel, const std::function<void(size_t, size_t)>& on_done) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "gpufleet-jobs-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("cannot create a temporary folder in " + fs::temp_directory_path().string());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{tmpl};
  std::vector<JobResult> out(jobs.size());
  std::map<pid_t, size_t> live;
  size_t next = 0, done = 0;
  auto file = [&](size_t i, const char* what) { return (fs::path(tmpl) / absl::StrCat(i, ".", what)).string(); };
  while (done < jobs.size()) {
    while (next < jobs.size() && live.size() < static_cast<size_t>(std::max(1, parallel))) {
      GF_ASSIGN_OR_RETURN(pid_t pid, SpawnChild(binary, jobs[next], file(next, "err"), file(next, "out")));
      live[pid] = next++;
    }
    GF_ASSIGN_OR_RETURN(ChildExit ex, WaitChild());
    if (ex.pid == 0) {
      if (StopSignal() != 0) {
        StopChildren();
        return absl::CancelledError("stopped by a signal");
      }
      continue;
    }
    auto it = live.find(ex.pid);
    if (it == live.end()) continue;
    const size_t i = it->second;
    live.erase(it);
    ++done;
    JobResult& r = out[i];
    r.wait_status = ex.wait_status;
    std::ifstream o(file(i, "out"));
    std::stringstream s;
    s << o.rdbuf();
    r.out = s.str();
    std::ifstream e(file(i, "err"));
    for (std::string line; std::getline(e, line);)
      if (!line.empty()) r.error_line = line;
    if (on_done) on_done(done, jobs.size());
  }
  return out;
}

}  // namespace gpufleet
