// Signal handlers and the temporary-file registry (see interrupt.h). Everything the handler touches is
// async-signal-safe: fixed slots of plain characters, atomics, unlink, write and _exit.
#include "sim/util/interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

namespace gpufleet {
namespace {

constexpr int kSlots = 32;
constexpr size_t kMaxPath = 4096;

struct Slot {
  std::atomic<bool> used{false};
  std::atomic<bool> ready{false};  // the path is complete: the handler may read it
  char path[kMaxPath];
};
Slot g_slots[kSlots];

void Say(const char* s) { (void)!write(2, s, strlen(s)); }

void OnSignal(int sig) {
  RemoveTempFilesNow();
  Say(sig == SIGINT ? "\ngpufleet: interrupted (SIGINT); stopped, no partial output left\n"
                    : "\ngpufleet: terminated (SIGTERM); stopped, no partial output left\n");
  _exit(128 + sig);
}

}  // namespace

void RemoveTempFilesNow() {
  for (Slot& slot : g_slots) {
    if (slot.ready.load()) unlink(slot.path);
  }
}

void InstallInterruptHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

TempFileGuard::TempFileGuard(const std::string& path) : slot_(-1) {
  if (path.size() >= kMaxPath) return;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slots[i].used.compare_exchange_strong(expected, true)) {
      memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].ready.store(true);
      slot_ = i;
      return;
    }
  }
}

TempFileGuard::~TempFileGuard() {
  if (slot_ < 0) return;
  g_slots[slot_].ready.store(false);
  g_slots[slot_].used.store(false);
}

}  // namespace gpufleet
