// See process_guards.h. The handlers only use async-signal-safe calls (write, _exit) once they run, since
// the heap may be exhausted or corrupt by then.
#include "tools/gpufleet/process_guards.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <exception>
#include <new>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sim/util/interrupt.h"

namespace gpufleet {
namespace {

uint64_t g_memory_limit = 0;

void Say(const char* s) { (void)!write(2, s, strlen(s)); }

[[noreturn]] void OutOfMemory() {
  RemoveTempFilesNow();
  Say(g_memory_limit > 0 ? "gpufleet: error: out of memory: the run needs more than --max-memory allows; "
                           "nothing was written\n"
                         : "gpufleet: error: out of memory; nothing was written (--max-memory sets a cap)\n");
  _exit(1);
}

[[noreturn]] void OnTerminate() {
  RemoveTempFilesNow();
  Say("gpufleet: internal error: ");
  try {
    if (auto e = std::current_exception()) std::rethrow_exception(e);
    Say("terminated without an exception");
  } catch (const std::bad_alloc&) {
    OutOfMemory();
  } catch (const std::exception& e) {
    Say(e.what());
  } catch (...) {
    Say("unknown exception");
  }
  Say("\n");
  _exit(1);
}

void OnAbort(int) {
  // A library's own assertion (SimGrid's xbt_assert) has printed its message: end without a core dump.
  // Under --max-memory the likeliest cause is a library's failed allocation (SimGrid aborts when it cannot
  // allocate an actor's stack), so say that first.
  RemoveTempFilesNow();
  Say(g_memory_limit > 0 ? "gpufleet: error: out of memory (probably): the run stopped inside a library under "
                           "--max-memory; raise it. Nothing was written\n"
                         : "gpufleet: internal error: aborted (see the message above); please report it with the "
                           "scenario\n");
  _exit(1);
}

}  // namespace

void InstallProcessGuards() {
  InstallInterruptHandlers();
  std::set_terminate(OnTerminate);
  std::set_new_handler(OutOfMemory);
  struct sigaction sa = {};
  sa.sa_handler = OnAbort;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGABRT, &sa, nullptr);
}

absl::StatusOr<uint64_t> ParseByteSize(const std::string& text) {
  const auto bad = [&text] {
    return absl::InvalidArgumentError(absl::StrCat("--max-memory ", text,
                                                   ": expected a size such as 8G, 512M or a number of bytes"));
  };
  if (text.empty()) return bad();
  double scale = 1;
  std::string number = text;
  switch (text.back()) {
    case 'K': case 'k': scale = 1024.0; break;
    case 'M': case 'm': scale = 1024.0 * 1024; break;
    case 'G': case 'g': scale = 1024.0 * 1024 * 1024; break;
    case 'T': case 't': scale = 1024.0 * 1024 * 1024 * 1024; break;
    default: break;
  }
  if (scale != 1) number.pop_back();
  double value = 0;
  if (!absl::SimpleAtod(number, &value) || !std::isfinite(value) || value <= 0) return bad();
  const double bytes = value * scale;
  if (bytes < 64.0 * 1024 * 1024 || bytes > 1.0e18) {
    return absl::InvalidArgumentError(absl::StrCat("--max-memory ", text, ": expected between 64M and 1e18 bytes"));
  }
  return static_cast<uint64_t>(bytes);
}

absl::Status SetMemoryLimit(uint64_t bytes) {
  struct rlimit rl {};
  rl.rlim_cur = bytes;
  rl.rlim_max = RLIM_INFINITY;
  if (getrlimit(RLIMIT_AS, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes ? rl.rlim_max : bytes;
  }
  if (setrlimit(RLIMIT_AS, &rl) != 0) {
    return absl::InternalError(absl::StrCat("--max-memory: cannot set the limit: ", strerror(errno)));
  }
  g_memory_limit = bytes;
  return absl::OkStatus();
}

}  // namespace gpufleet
