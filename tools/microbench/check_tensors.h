// Host-side fp16/bf16 test tensors for the attention checks (attention_check, cudnn_sdpa_bench): random
// values rounded to the GPU type, kept both as the raw 16-bit words the GPU reads and as the floats they
// hold (what the CPU reference computes with), and copies to and from device buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"

namespace gpufleet::microbench {

struct HostTensor {
  std::vector<uint16_t> bits;
  std::vector<float> values;
};

HostTensor RandomTensor(size_t n, bool bf16, std::mt19937& rng);  // uniform in [-1, 1), then rounded
absl::Status Upload(DeviceBuffer& buf, const void* data, size_t bytes);  // synchronous
absl::StatusOr<std::vector<float>> Download(const DeviceBuffer& buf, size_t n, bool bf16);

}  // namespace gpufleet::microbench
