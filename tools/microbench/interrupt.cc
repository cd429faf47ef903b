// Signal flag and emergency restore (see interrupt.h).
#include "tools/microbench/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "tools/microbench/power_limit.h"

namespace gpufleet::microbench {
namespace {

std::atomic<int> g_signals{0};

void OnSignal(int) {
  if (g_signals.fetch_add(1) >= 1) {
    static const char msg[] = "\ngpufleet-microbench: interrupted again; restoring power limits and exiting\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    // EmergencyRestore calls NVML, which is not async-signal-safe and may hang. This handler never returns,
    // so SIGINT/SIGTERM would stay blocked for good: put the default actions back and unblock them so that
    // a third Ctrl-C still kills the process (sigaction and sigprocmask are async-signal-safe).
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGINT, &dfl, nullptr);
    sigaction(SIGTERM, &dfl, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    PowerLimitGuard::EmergencyRestore();  // not async-signal-safe; a last resort before exiting
    _exit(130);
  }
  static const char msg[] = "\ngpufleet-microbench: interrupted; finishing the current sample (again to abort)\n";
  (void)!write(2, msg, sizeof(msg) - 1);
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  // The first signal only raises a flag: restart interrupted system calls (NCCL's bootstrap sockets,
  // file writes) rather than failing them with EINTR.
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_signals.load() > 0; }

}  // namespace gpufleet::microbench
