// Small CUDA kernels behind the benchmarks: random fill of input buffers, the HBM streaming kernels
// (copy, triad) and the empty kernel whose launches measure launch overhead. Plain C++ interface so
// that nvcc and the host compiler both include it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace gpufleet::microbench {

enum class FillType { kF32, kF16, kBf16, kFp8E4M3 };

// Uniform values in [-scale, scale) from a counter-based hash of (seed, index): deterministic, any size.
cudaError_t FillRandom(void* data, size_t count, FillType type, uint64_t seed, float scale, cudaStream_t stream);

// dst[i] = src[i] over `count` float4 elements (reads and writes 16 * count bytes each).
cudaError_t LaunchCopy(void* dst, const void* src, size_t count, int sm_count, cudaStream_t stream);
// a[i] = b[i] + s * c[i] over `count` float4 elements (STREAM triad: two reads, one write).
cudaError_t LaunchTriad(void* a, const void* b, const void* c, float s, size_t count, int sm_count,
                        cudaStream_t stream);
// One block of one thread that does nothing.
cudaError_t LaunchEmpty(cudaStream_t stream);

}  // namespace gpufleet::microbench
