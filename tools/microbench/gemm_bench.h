// GEMM through cuBLASLt: C[m x n] = A[m x k] . W^T with W stored [n][k] (a linear layer's weight), fp16 or
// bf16 in and out, or fp8 (e4m3) in and bf16 out, fp32 accumulation; the heuristic's first algorithm
// with a 32 MiB workspace, as serving stacks use it.
#pragma once

#include <memory>

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {

class GemmBench {
 public:
  static absl::StatusOr<std::unique_ptr<GemmBench>> Create(const GpuInfo& gpu, cudaStream_t stream);
  ~GemmBench();

  // Unimplemented when cuBLASLt has no algorithm for the shape/dtype or the GPU lacks fp8;
  // ResourceExhausted when the operands do not fit.
  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* sampler);

 private:
  GemmBench(const GpuInfo& gpu, cudaStream_t stream) : gpu_(gpu), stream_(stream) {}

  GpuInfo gpu_;
  cudaStream_t stream_;
  void* handle_ = nullptr;  // cublasLtHandle_t
  DeviceBuffer a_, w_, c_, workspace_;
};

}  // namespace gpufleet::microbench
