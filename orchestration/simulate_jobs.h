// A batch of `gpufleet` child processes run N at a time, each with its stdout and stderr captured: what
// the planner's capacity search and verification run (one SimGrid engine per process, like the sweep's
// points). Stops every child and returns Cancelled on SIGINT/SIGTERM once InstallSweepSignalHandlers ran.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gpufleet {

struct JobResult {
  int wait_status = 0;     // as waitpid returns it
  std::string out;         // the child's stdout
  std::string error_line;  // the last non-empty line of its stderr
  bool ok() const;         // exited with status 0
};

// Runs `binary args` for every entry of `jobs`, at most `parallel` at once; results in the jobs' order.
// `on_done(done, total)`, when given, is called after each job ends (a progress line).
absl::StatusOr<std::vector<JobResult>> RunJobs(const std::string& binary, const std::vector<std::vector<std::string>>& jobs,
                                               int parallel,
                                               const std::function<void(size_t, size_t)>& on_done = nullptr);

}  // namespace gpufleet
