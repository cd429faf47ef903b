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
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_signals.load() > 0; }

}  // namespace gpufleet::microbench
