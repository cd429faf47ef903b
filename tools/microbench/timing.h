// The measurement method (method.h) on the GPU: warm-up, then batches of timed samples between CUDA
// events until the stopping rule fires (and, for steady points, until the window is long enough), while
// the power sampler runs. One sample is `inner` back-to-back calls divided by `inner`, replayed from a
// captured CUDA graph or launched from the host (MethodOptions::timing); with several streams (one per GPU,
// for collectives) a sample is the slowest stream's interval.
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
  TimingMode timing = TimingMode::kLaunch;  // how the samples were issued (graph capture can fall back)
  int64_t warmup_calls = 0;
  double warmup_seconds = 0;  // GPU time of the warm-up (event time), excluding the first call
  double window_seconds = 0;  // wall time from the first to the last timed sample
  PowerReading power;
};

// Enqueues one call on every stream (asynchronously). `call` counts calls from 0 across the point; a
// bench rotating cold operands uses copy `call % copies`. In graph mode the function is invoked while the
// streams are being captured: it must only enqueue work (no synchronisation, no allocation).
using EnqueueFn = std::function<absl::Status(int64_t call)>;

struct TimingRequest {
  // How many operations one EnqueueFn issues (the launch benchmark issues many), so that the reported
  // time is per operation.
  int64_t calls_per_enqueue = 1;
  // The cold-operand rotation period (cache_rotation.h): a graph holds a whole number of periods so that
  // replaying it keeps the rotation.
  int64_t cycle = 1;
  // Apply MethodOptions::steady_window_seconds (compute-bound points).
  bool steady = false;
  // Force host launches for this point (ops that cannot be captured).
  bool launch_only = false;
};

// Cancelled when interrupted (interrupt.h).
absl::StatusOr<TimedResult> TimeCalls(const std::vector<TimedStream>& streams, const EnqueueFn& enqueue,
                                      const MethodOptions& method, PowerSampler* sampler,
                                      const TimingRequest& request = {});

}  // namespace gpufleet::microbench
