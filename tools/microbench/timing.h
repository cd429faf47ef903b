// The measurement method (method.h) on the GPU: warm-up, then batches of timed samples between CUDA
// events until the stopping rule fires, while the power sampler runs. One sample is `inner` back-to-back
// calls divided by `inner`; with several streams (one per GPU, for collectives) a sample is the slowest
// stream's interval.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "tools/microbench/method.h"
#include "tools/microbench/power_sampler.h"
#include "tools/microbench/stats.h"

namespace gpufleet::microbench {

struct TimedStream {
  int device = 0;
  cudaStream_t stream = nullptr;
};

struct TimedResult {
  RobustStats stats;  // microseconds per call
  StopReason reason = StopReason::kContinue;
  int64_t inner = 1;  // calls per sample
  PowerReading power;
};

// Enqueues one call on every stream (asynchronously).
using EnqueueFn = std::function<absl::Status()>;

// `calls_per_enqueue`: how many operations one EnqueueFn issues (the launch benchmark issues many), so
// that the reported time is per operation. Cancelled when interrupted (interrupt.h).
absl::StatusOr<TimedResult> TimeCalls(const std::vector<TimedStream>& streams, const EnqueueFn& enqueue,
                                      const MethodOptions& method, PowerSampler* sampler,
                                      int64_t calls_per_enqueue = 1);

}  // namespace gpufleet::microbench
