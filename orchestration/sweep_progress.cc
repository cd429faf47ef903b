// See sweep_progress.h.
#include "orchestration/sweep_progress.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gpufleet {

SweepProgress::SweepProgress(std::string name, int64_t to_run, int64_t already, bool terminal)
    : name_(std::move(name)), to_run_(to_run), already_(already), terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {
  std::fprintf(stderr, "gpufleet: sweep %s: %lld points to run, %lld already in the database\n", name_.c_str(),
               static_cast<long long>(to_run), static_cast<long long>(already));
}

void SweepProgress::Finished(const SweepPoint& point, bool ok, double wall_s, const std::string& error, int running) {
  ++done_;
  if (!ok) ++failed_;
  const std::string line = absl::StrFormat("[%d/%d] %s %s %s (%.2f s)%s", done_, to_run_, ok ? "ok" : "FAILED",
                                           point.key, DescribePoint(point), wall_s,
                                           ok ? "" : absl::StrCat(": ", error));
  if (!terminal_) {
    std::fprintf(stderr, "gpufleet: %s\n", line.c_str());
    return;
  }
  if (!ok) std::fprintf(stderr, "\r\033[Kgpufleet: %s\n", line.c_str());
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = elapsed / static_cast<double>(done_) * static_cast<double>(to_run_ - done_);
  std::fprintf(stderr, "\r\033[Ksweep %s: %lld/%lld done, %lld failed, %d running, %s elapsed, ETA %s", name_.c_str(),
               static_cast<long long>(done_), static_cast<long long>(to_run_), static_cast<long long>(failed_),
               running, FormatDuration(elapsed).c_str(), FormatDuration(eta).c_str());
  std::fflush(stderr);
}

void SweepProgress::Close() {
  if (terminal_ && done_ > 0) std::fprintf(stderr, "\r\033[K");
}

std::string DescribePoint(const SweepPoint& point) {
  std::string out;
  for (const ScenarioOverride& o : point.overrides) absl::StrAppend(&out, o.path, "=", o.value, " ");
  return absl::StrCat(out, "seed=", point.seed);
}

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

}  // namespace gpufleet
