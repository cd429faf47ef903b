// fp16/bf16 host tensors for the attention checks (see check_tensors.h).
#include "tools/microbench/check_tensors.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "sim/util/status_macros.h"

namespace gpufleet::microbench {
namespace {

uint16_t ToBits(float v, bool bf16) {
  if (!bf16) return static_cast<__half_raw>(__float2half_rn(v)).x;
  return static_cast<__nv_bfloat16_raw>(__float2bfloat16_rn(v)).x;
}

float FromBits(uint16_t bits, bool bf16) {
  if (!bf16) {
    __half_raw r;
    r.x = bits;
    return __half2float(__half(r));
  }
  __nv_bfloat16_raw r;
  r.x = bits;
  return __bfloat162float(__nv_bfloat16(r));
}

}  // namespace

HostTensor RandomTensor(size_t n, bool bf16, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  HostTensor x;
  x.bits.resize(n);
  x.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    x.bits[i] = ToBits(u(rng), bf16);
    x.values[i] = FromBits(x.bits[i], bf16);
  }
  return x;
}

absl::Status Upload(DeviceBuffer& buf, const void* data, size_t bytes) {
  GF_RETURN_IF_ERROR(buf.Reserve(bytes));
  return CudaStatus(cudaMemcpy(buf.data(), data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}

absl::StatusOr<std::vector<float>> Download(const DeviceBuffer& buf, size_t n, bool bf16) {
  std::vector<uint16_t> bits(n);
  GF_CUDA_RETURN_IF_ERROR(cudaMemcpy(bits.data(), buf.data(), n * 2, cudaMemcpyDeviceToHost));
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = FromBits(bits[i], bf16);
  return out;
}

}  // namespace gpufleet::microbench
