// Terminal progress line (see progress.h).
#include "sim/engine/progress.h"

#include <cstdio>
#include <unistd.h>

namespace gpufleet {

ProgressMeter::ProgressMeter(bool enabled, std::function<double()> fraction)
    : enabled_(enabled && isatty(STDERR_FILENO)), fraction_(std::move(fraction)),
      start_(std::chrono::steady_clock::now()), last_print_(start_) {}

void ProgressMeter::Tick(double sim_time_s, int64_t requests_done) {
  if (!enabled_ || (++ticks_ & 1023) != 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (elapsed < 1.0 || std::chrono::duration<double>(now - last_print_).count() < 0.25) return;
  last_print_ = now;
  const double f = fraction_ ? fraction_() : -1;
  char eta[32] = "?";
  if (f > 0.01 && f <= 1.0) std::snprintf(eta, sizeof eta, "%.0fs", elapsed * (1.0 - f) / f);
  std::fprintf(stderr, "\r  simulated %.1fs | %lld requests done | workload %s | ETA %s   ", sim_time_s,
               static_cast<long long>(requests_done), f >= 0 ? std::to_string(static_cast<int>(f * 100)).append("%").c_str() : "?",
               eta);
  std::fflush(stderr);
  printed_ = true;
}

void ProgressMeter::Finish() {
  if (printed_) std::fprintf(stderr, "\r%80s\r", "");
}

}  // namespace gpufleet
