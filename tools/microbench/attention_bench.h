// Attention measurements with the project's own kernels (attention_kernels.h): causal prefill with cached
// context over contiguous K/V, and decode over a paged KV cache whose block table is a random permutation
// (as a long-running server's allocator leaves it).
#pragma once

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {

class AttentionBench {
 public:
  AttentionBench(const GpuInfo& gpu, cudaStream_t stream) : gpu_(gpu), stream_(stream) {}
  // Ops attn_prefill and attn_decode, dtypes fp16 and bf16.
  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* sampler);
  void ReleaseBuffers();

 private:
  GpuInfo gpu_;
  cudaStream_t stream_;
  DeviceBuffer q_, k_, v_, o_, table_, lens_, workspace_;
};

}  // namespace gpufleet::microbench
