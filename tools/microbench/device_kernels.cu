// Fill, streaming and empty kernels (see device_kernels.h).
#include "tools/microbench/device_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>

namespace gpufleet::microbench {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float HashUniform(uint64_t seed, uint64_t i) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;  // 24 bits -> [-1, 1)
}

template <class T, class Convert>
__global__ void FillKernel(T* data, size_t count, uint64_t seed, float scale, Convert convert) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
    data[i] = convert(HashUniform(seed, i) * scale);
  }
}

struct ToF32 {
  __device__ float operator()(float v) const { return v; }
};
struct ToF16 {
  __device__ __half operator()(float v) const { return __float2half_rn(v); }
};
struct ToBf16 {
  __device__ __nv_bfloat16 operator()(float v) const { return __float2bfloat16_rn(v); }
};
struct ToFp8 {
  __device__ __nv_fp8_e4m3 operator()(float v) const { return __nv_fp8_e4m3(v); }
};

__global__ void CopyKernel(float4* __restrict__ dst, const float4* __restrict__ src, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    dst[i] = src[i];
  }
}

__global__ void TriadKernel(float4* __restrict__ a, const float4* __restrict__ b, const float4* __restrict__ c,
                            float s, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

__global__ void EmptyKernel() {}

unsigned Blocks(size_t n, int sm_count) {
  const size_t needed = (n + kThreads - 1) / kThreads;
  const size_t cap = size_t(std::max(sm_count, 1)) * 8;  // enough resident blocks to saturate HBM
  return static_cast<unsigned>(std::max<size_t>(1, std::min(needed, cap)));
}

template <class T, class Convert>
cudaError_t Fill(void* data, size_t count, uint64_t seed, float scale, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>(std::min<size_t>((count + kThreads - 1) / kThreads, 65535));
  FillKernel<<<std::max(blocks, 1u), kThreads, 0, stream>>>(static_cast<T*>(data), count, seed, scale, Convert());
  return cudaGetLastError();
}

}  // namespace

cudaError_t FillRandom(void* data, size_t count, FillType type, uint64_t seed, float scale, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  switch (type) {
    case FillType::kF32: return Fill<float, ToF32>(data, count, seed, scale, stream);
    case FillType::kF16: return Fill<__half, ToF16>(data, count, seed, scale, stream);
    case FillType::kBf16: return Fill<__nv_bfloat16, ToBf16>(data, count, seed, scale, stream);
    case FillType::kFp8E4M3: return Fill<__nv_fp8_e4m3, ToFp8>(data, count, seed, scale, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchCopy(void* dst, const void* src, size_t count, int sm_count, cudaStream_t stream) {
  CopyKernel<<<Blocks(count, sm_count), kThreads, 0, stream>>>(static_cast<float4*>(dst),
                                                               static_cast<const float4*>(src), count);
  return cudaGetLastError();
}

cudaError_t LaunchTriad(void* a, const void* b, const void* c, float s, size_t count, int sm_count,
                        cudaStream_t stream) {
  TriadKernel<<<Blocks(count, sm_count), kThreads, 0, stream>>>(
      static_cast<float4*>(a), static_cast<const float4*>(b), static_cast<const float4*>(c), s, count);
  return cudaGetLastError();
}

cudaError_t LaunchEmpty(cudaStream_t stream) {
  EmptyKernel<<<1, 1, 0, stream>>>();
  return cudaGetLastError();
}

}  // namespace gpufleet::microbench
