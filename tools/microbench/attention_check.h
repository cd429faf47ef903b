// The start-up correctness check of the attention kernels (and `--check-only`): small prefill and decode
// problems for every supported head_dim in fp16 and bf16, compared element-wise with the CPU reference
// (attention_reference.h) on the same rounded inputs.
#pragma once

#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"

namespace gpufleet::microbench {

// One line per case ("prefill bf16 d=128 ... ok (max |error| ...)"); FailedPrecondition listing the
// mismatching cases when any fails; other errors for CUDA failures.
absl::StatusOr<std::vector<std::string>> CheckAttentionKernels(const GpuInfo& gpu, cudaStream_t stream);

}  // namespace gpufleet::microbench
