// See child_processes.h. The live children are kept in fixed slots of atomics so that the signal handler
// can walk them (kill is async-signal-safe; a container is not).
#include "orchestration/child_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace gpufleet {
namespace {

constexpr int kSlots = 4096;
std::atomic<pid_t> g_children[kSlots];
std::atomic<int> g_stop_signal{0};

void OnStop(int sig) {
  g_stop_signal.store(sig);
  for (auto& slot : g_children) {
    const pid_t pid = slot.load();
    if (pid > 0) kill(pid, SIGTERM);
  }
}

void Register(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void Unregister(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace

absl::StatusOr<std::string> SelfExecutable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot find the gpufleet binary (/proc/self/exe): ", ec.message()));
  return path.string();
}

absl::StatusOr<pid_t> SpawnChild(const std::string& binary, const std::vector<std::string>& args,
                                 const std::string& stderr_path, const std::string& stdout_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  if (stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&files, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawn_file_actions_addopen(&files, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigemptyset(&all);
  sigaddset(&all, SIGINT);
  sigaddset(&all, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // A signal between the spawn and the registration would miss this child: hold them until it is listed.
  sigset_t old;
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &files, &attr, argv.data(), environ);
  if (rc == 0) Register(pid);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot start ", binary, ": ", strerror(rc)));
  return pid;
}

absl::StatusOr<ChildExit> WaitChild() {
  ChildExit out;
  const pid_t pid = waitpid(-1, &out.wait_status, 0);
  if (pid < 0 && errno == EINTR) return out;
  if (pid < 0) return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
  Unregister(pid);
  out.pid = pid;
  return out;
}

void InstallSweepSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaction(SIGINT, &sa, nullptr);  // no SA_RESTART: a wait returns so the loop sees the stop
  sigaction(SIGTERM, &sa, nullptr);
}

int StopSignal() { return g_stop_signal.load(); }

void StopChildren() { OnStop(g_stop_signal.load()); }

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status), " (", strsignal(WTERMSIG(wait_status)), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace gpufleet
