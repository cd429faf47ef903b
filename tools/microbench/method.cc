// The method's host-side rules (see method.h): warm-up accounting and calls per sample.
#include "tools/microbench/method.h"

#include <algorithm>
#include <cmath>

namespace gpufleet::microbench {
namespace {
constexpr int64_t kMaxWarmupBatch = 100000;
}  // namespace

int64_t NextWarmupBatch(const MethodOptions& method, int64_t calls_done, double seconds_done,
                        double last_call_seconds) {
  if (calls_done >= method.warmup_min_calls && seconds_done >= method.warmup_seconds) return 0;
  const double per_call = std::max(last_call_seconds, 1e-7);
  const double remaining = std::max(0.0, method.warmup_seconds - seconds_done);
  int64_t want = static_cast<int64_t>(std::ceil(remaining / per_call));
  want = std::max(want, method.warmup_min_calls - calls_done);
  // Grow at most 4x per batch: the per-call time of early (cold) calls overstates the warm one.
  want = std::min(want, std::max<int64_t>(4, 4 * calls_done));
  return std::clamp<int64_t>(want, 1, kMaxWarmupBatch);
}

int64_t InnerCalls(const MethodOptions& method, double call_seconds, int64_t cycle, TimingMode mode) {
  int64_t inner = std::clamp<int64_t>(
      static_cast<int64_t>(std::ceil(method.target_sample_seconds / std::max(call_seconds, 1e-7))), 1,
      method.max_inner);
  if (mode == TimingMode::kGraph && cycle > 1) inner = (inner + cycle - 1) / cycle * cycle;
  return inner;
}

}  // namespace gpufleet::microbench
