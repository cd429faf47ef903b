// Memory and launch measurements on one GPU: HBM bandwidth with streaming copy and triad kernels,
// pinned host<->device copies (cudaMemcpyAsync), and the per-kernel cost of back-to-back empty launches.
#pragma once

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {

class MemoryBench {
 public:
  MemoryBench(const GpuInfo& gpu, cudaStream_t stream) : gpu_(gpu), stream_(stream) {}
  // Ops hbm_copy, hbm_triad, h2d, d2h and launch.
  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* sampler);
  void ReleaseBuffers();

 private:
  GpuInfo gpu_;
  cudaStream_t stream_;
  DeviceBuffer a_, b_, c_;
  PinnedBuffer host_;
};

}  // namespace gpufleet::microbench
