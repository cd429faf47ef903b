// The sweep's worker processes: one `gpufleet simulate` per point (SimGrid runs one engine per process,
// and a point that crashes takes only itself down). Spawning, reaping, and stopping them all on SIGINT or
// SIGTERM: while the sweep runs, those signals no longer end the process at once (sim/util/interrupt.h);
// the handler forwards SIGTERM to every live child and records the signal, and the sweep loop, between two
// database transactions, stops.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gpufleet {

// The path of the running binary (/proc/self/exe), which the children run.
absl::StatusOr<std::string> SelfExecutable();

// Starts `binary args...` with stderr into `stderr_path` and stdout into `stdout_path` (empty: discarded),
// and registers it for StopChildren. The child starts with default signal handling and nothing blocked.
absl::StatusOr<pid_t> SpawnChild(const std::string& binary, const std::vector<std::string>& args,
                                 const std::string& stderr_path, const std::string& stdout_path = "");

struct ChildExit {
  pid_t pid = 0;
  int wait_status = 0;  // as waitpid returns it
};
// Waits for any child to end and unregisters it. Returns pid 0 when a signal interrupted the wait (check
// StopSignal), or an error when there is no child to wait for.
absl::StatusOr<ChildExit> WaitChild();

// Replaces the SIGINT/SIGTERM handlers for the rest of the process (see above).
void InstallSweepSignalHandlers();
// The signal that asked the sweep to stop, or 0.
int StopSignal();
// Sends SIGTERM to every live child.
void StopChildren();

// "exit code 2", "killed by signal 11 (Segmentation fault)".
std::string DescribeWaitStatus(int wait_status);

}  // namespace gpufleet
