// The project's attention kernels (see attention_kernels.h and attention_layout.h).
//
// Prefill: one block of 4 warps per (16 query rows, head, sequence). K/V tiles of 32 keys are staged in
// shared memory; each lane scores one key of the tile against the warp's rows (so no shuffle per score),
// the warp then updates each row's running max and sum (online softmax, exp2 with log2(e)-prescaled
// queries) and accumulates P.V with each lane owning head_dim/32 output dimensions.
// Decode: split-KV ("flash-decoding"): one block per (512-key partition, head, sequence); each warp
// scores 32 keys at a time read straight from the paged cache (16-byte loads), blocks merge their warps,
// and a second kernel merges the partitions by log-sum-exp.
#include "tools/microbench/attention_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "tools/microbench/attention_layout.h"

namespace gpufleet::microbench {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kLog2e = 1.4426950408889634f;
constexpr int kWarpSize = 32;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * kWarpSize;
constexpr int kKeyTile = 32;

template <class T>
struct Pair;
template <>
struct Pair<__half> {
  using type = __half2;
  __device__ static float2 ToFloat2(__half2 v) { return __half22float2(v); }
  __device__ static __half2 Zero() { return __float2half2_rn(0.f); }
  __device__ static float ToFloat(__half v) { return __half2float(v); }
  __device__ static __half FromFloat(float v) { return __float2half_rn(v); }
};
template <>
struct Pair<__nv_bfloat16> {
  using type = __nv_bfloat162;
  __device__ static float2 ToFloat2(__nv_bfloat162 v) { return __bfloat1622float2(v); }
  __device__ static __nv_bfloat162 Zero() { return __float2bfloat162_rn(0.f); }
  __device__ static float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
  __device__ static __nv_bfloat16 FromFloat(float v) { return __float2bfloat16_rn(v); }
};

__device__ __forceinline__ float WarpMax(float v) {
  for (int o = kWarpSize / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}
__device__ __forceinline__ float WarpSum(float v) {
  for (int o = kWarpSize / 2; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

// Query rows per warp: fewer for wide heads so that shared memory stays within 48 KB.
template <int D>
constexpr int RowsPerWarp() {
  return D > 128 ? 2 : 4;
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) PrefillKernel(PrefillParams p) {
  using T2 = typename Pair<T>::type;
  constexpr int R = RowsPerWarp<D>();
  constexpr int kRows = kWarps * R;        // query rows per block
  constexpr int kHalfD = D / 2;            // element pairs per row
  constexpr int kKStride = kHalfD + 1;     // padded K row (pairs): conflict-free column reads
  constexpr int kEpl = (D + kWarpSize - 1) / kWarpSize;  // output dims per lane
  __shared__ float q_s[kRows][D];
  __shared__ T2 k_s[kKeyTile * kKStride];
  __shared__ T2 v_s[kKeyTile * kHalfD];

  const int b = blockIdx.z, h = blockIdx.y, row0 = blockIdx.x * kRows;
  const int kvh = h / (p.heads / p.kv_heads);
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int total = p.kv_tokens + p.q_tokens;
  const T* q = static_cast<const T*>(p.q);
  const T* k = static_cast<const T*>(p.k);
  const T* v = static_cast<const T*>(p.v);
  const float qscale = p.scale * kLog2e;

  for (int idx = threadIdx.x; idx < kRows * kHalfD; idx += kThreads) {
    const int r = idx / kHalfD, c = idx % kHalfD, qi = row0 + r;
    float2 f = make_float2(0.f, 0.f);
    if (qi < p.q_tokens) {
      const T2* src = reinterpret_cast<const T2*>(q + ((size_t(b) * p.q_tokens + qi) * p.heads + h) * D);
      f = Pair<T>::ToFloat2(src[c]);
    }
    q_s[r][2 * c] = f.x * qscale;
    q_s[r][2 * c + 1] = f.y * qscale;
  }

  float m[R], l[R], acc[R][kEpl];
  int pos[R];
  bool valid[R];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int qi = row0 + warp * R + i;
    valid[i] = qi < p.q_tokens;
    pos[i] = p.kv_tokens + qi;
    m[i] = -INFINITY;
    l[i] = 0.f;
#pragma unroll
    for (int e = 0; e < kEpl; ++e) acc[i][e] = 0.f;
  }
  const int last_row = min(row0 + kRows, p.q_tokens) - 1;
  const int key_end = p.kv_tokens + last_row + 1;  // the block's rows see keys [0, key_end)

  for (int t0 = 0; t0 < key_end; t0 += kKeyTile) {
    __syncthreads();  // previous tile consumed (and, first time, q_s written)
    for (int idx = threadIdx.x; idx < kKeyTile * kHalfD; idx += kThreads) {
      const int j = idx / kHalfD, c = idx % kHalfD, key = t0 + j;
      T2 kv = Pair<T>::Zero(), vv = Pair<T>::Zero();
      if (key < total) {
        const size_t off = ((size_t(b) * total + key) * p.kv_heads + kvh) * D;
        kv = reinterpret_cast<const T2*>(k + off)[c];
        vv = reinterpret_cast<const T2*>(v + off)[c];
      }
      k_s[j * kKStride + c] = kv;
      v_s[j * kHalfD + c] = vv;
    }
    __syncthreads();

    // Scores: lane j against key t0 + j.
    const int key = t0 + lane;
    float s[R];
#pragma unroll
    for (int i = 0; i < R; ++i) s[i] = 0.f;
    const T2* krow = k_s + lane * kKStride;
#pragma unroll 4
    for (int c = 0; c < kHalfD; ++c) {
      const float2 kf = Pair<T>::ToFloat2(krow[c]);
#pragma unroll
      for (int i = 0; i < R; ++i) s[i] += q_s[warp * R + i][2 * c] * kf.x + q_s[warp * R + i][2 * c + 1] * kf.y;
    }

    // Online softmax update per row; p_[i] is this lane's (key's) weight.
    float p_[R];
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const bool ok = valid[i] && key <= pos[i];
      const float si = ok ? s[i] : -INFINITY;
      const float tile_max = WarpMax(si);
      if (tile_max == -INFINITY) {  // warp-uniform: no visible key in this tile for this row
        p_[i] = 0.f;
        continue;
      }
      const float m_new = fmaxf(m[i], tile_max);
      const float alpha = exp2f(m[i] - m_new);
      p_[i] = ok ? exp2f(si - m_new) : 0.f;
      l[i] = l[i] * alpha + WarpSum(p_[i]);
      m[i] = m_new;
#pragma unroll
      for (int e = 0; e < kEpl; ++e) acc[i][e] *= alpha;
    }

    // P.V: every lane walks the 32 keys; lane owns dims lane, lane+32, ...
    const T* vt = reinterpret_cast<const T*>(v_s);
    const int keys_here = min(kKeyTile, key_end - t0);
    for (int j = 0; j < keys_here; ++j) {
      float vv[kEpl];
#pragma unroll
      for (int e = 0; e < kEpl; ++e) {
        const int dim = lane + e * kWarpSize;
        vv[e] = dim < D ? Pair<T>::ToFloat(vt[j * D + dim]) : 0.f;
      }
#pragma unroll
      for (int i = 0; i < R; ++i) {
        const float pj = __shfl_sync(kFullMask, p_[i], j);
#pragma unroll
        for (int e = 0; e < kEpl; ++e) acc[i][e] += pj * vv[e];
      }
    }
  }

  T* o = static_cast<T*>(p.o);
#pragma unroll
  for (int i = 0; i < R; ++i) {
    if (!valid[i]) continue;
    const int qi = row0 + warp * R + i;
    const float inv = 1.f / l[i];
    T* dst = o + ((size_t(b) * p.q_tokens + qi) * p.heads + h) * D;
#pragma unroll
    for (int e = 0; e < kEpl; ++e) {
      const int dim = lane + e * kWarpSize;
      if (dim < D) dst[dim] = Pair<T>::FromFloat(acc[i][e] * inv);
    }
  }
}

// Workspace layout: m [B*H*P], l [B*H*P], acc [B*H*P][D].
struct DecodeWorkspace {
  float* m;
  float* l;
  float* acc;
};
__host__ __device__ inline int NumPartitions(int max_context) {
  return (max_context + kDecodePartitionTokens - 1) / kDecodePartitionTokens;
}
__host__ __device__ inline DecodeWorkspace SplitWorkspace(float* ws, int batch, int heads, int head_dim, int parts) {
  const size_t n = size_t(batch) * heads * parts;
  return {ws, ws + n, ws + 2 * n};
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) DecodePartialKernel(DecodeParams p, int parts) {
  using T2 = typename Pair<T>::type;
  constexpr int kEpl = (D + kWarpSize - 1) / kWarpSize;
  constexpr int kVec = 8;  // elements per 16-byte load
  __shared__ float q_s[D];
  __shared__ float warp_m[kWarps], warp_l[kWarps];
  __shared__ float warp_acc[kWarps][D];

  const int part = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int kvh = h / (p.heads / p.kv_heads);
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int ctx = p.context_lens[b];
  const int start = part * kDecodePartitionTokens;
  const int end = min(ctx, start + kDecodePartitionTokens);
  const DecodeWorkspace ws = SplitWorkspace(p.workspace, p.batch, p.heads, D, parts);
  const size_t slot_index = (size_t(b) * p.heads + h) * parts + part;
  if (start >= ctx) {  // a shorter sequence than the batch's longest: empty partition
    if (threadIdx.x == 0) {
      ws.m[slot_index] = -INFINITY;
      ws.l[slot_index] = 0.f;
    }
    return;
  }
  const T* q = static_cast<const T*>(p.q) + (size_t(b) * p.heads + h) * D;
  for (int d = threadIdx.x; d < D; d += kThreads) q_s[d] = Pair<T>::ToFloat(q[d]) * p.scale * kLog2e;
  __syncthreads();

  const T* k_cache = static_cast<const T*>(p.k_cache);
  const T* v_cache = static_cast<const T*>(p.v_cache);
  const int32_t* table = p.block_table + size_t(b) * p.max_blocks_per_seq;
  auto row_of = [&](const T* cache, int key) {
    const int block = table[key / p.block_size];
    const size_t slot = size_t(block) * p.block_size + key % p.block_size;
    return cache + (slot * p.kv_heads + kvh) * D;
  };

  float m = -INFINITY, l = 0.f, acc[kEpl];
#pragma unroll
  for (int e = 0; e < kEpl; ++e) acc[e] = 0.f;
  for (int c0 = start + warp * kWarpSize; c0 < end; c0 += kWarps * kWarpSize) {
    const int key = c0 + lane;
    const bool ok = key < end;
    float s = -INFINITY;
    if (ok) {
      const T* krow = row_of(k_cache, key);
      float dot = 0.f;
#pragma unroll
      for (int c = 0; c < D; c += kVec) {
        const uint4 raw = *reinterpret_cast<const uint4*>(krow + c);
        const T2* pairs = reinterpret_cast<const T2*>(&raw);
#pragma unroll
        for (int u = 0; u < kVec / 2; ++u) {
          const float2 f = Pair<T>::ToFloat2(pairs[u]);
          dot += q_s[c + 2 * u] * f.x + q_s[c + 2 * u + 1] * f.y;
        }
      }
      s = dot;
    }
    const float m_new = fmaxf(m, WarpMax(s));  // lane 0's key is always visible: finite
    const float alpha = exp2f(m - m_new);
    const float pj = ok ? exp2f(s - m_new) : 0.f;
    l = l * alpha + WarpSum(pj);
    m = m_new;
#pragma unroll
    for (int e = 0; e < kEpl; ++e) acc[e] *= alpha;
    const int n_keys = min(kWarpSize, end - c0);
    for (int j = 0; j < n_keys; ++j) {
      const float w = __shfl_sync(kFullMask, pj, j);
      const T* vrow = row_of(v_cache, c0 + j);
#pragma unroll
      for (int e = 0; e < kEpl; ++e) {
        const int dim = lane + e * kWarpSize;
        if (dim < D) acc[e] += w * Pair<T>::ToFloat(vrow[dim]);
      }
    }
  }

  // Merge the warps of the block.
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
#pragma unroll
  for (int e = 0; e < kEpl; ++e) {
    const int dim = lane + e * kWarpSize;
    if (dim < D) warp_acc[warp][dim] = acc[e];
  }
  __syncthreads();
  float M = -INFINITY;
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, warp_m[w]);
  float L = 0.f;
  for (int w = 0; w < kWarps; ++w) {
    if (warp_m[w] > -INFINITY) L += warp_l[w] * exp2f(warp_m[w] - M);
  }
  for (int d = threadIdx.x; d < D; d += kThreads) {
    float a = 0.f;
    for (int w = 0; w < kWarps; ++w) {
      if (warp_m[w] > -INFINITY) a += warp_acc[w][d] * exp2f(warp_m[w] - M);
    }
    ws.acc[slot_index * D + d] = a;
  }
  if (threadIdx.x == 0) {
    ws.m[slot_index] = M;
    ws.l[slot_index] = L;
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) DecodeMergeKernel(DecodeParams p, int parts) {
  const int h = blockIdx.x, b = blockIdx.y;
  const DecodeWorkspace ws = SplitWorkspace(p.workspace, p.batch, p.heads, D, parts);
  const size_t base = (size_t(b) * p.heads + h) * parts;
  const int used = NumPartitions(p.context_lens[b]);
  float M = -INFINITY;
  for (int i = 0; i < used; ++i) M = fmaxf(M, ws.m[base + i]);
  float L = 0.f;
  for (int i = 0; i < used; ++i) L += ws.l[base + i] * exp2f(ws.m[base + i] - M);
  const float inv = 1.f / L;
  T* o = static_cast<T*>(p.o) + (size_t(b) * p.heads + h) * D;
  for (int d = threadIdx.x; d < D; d += kThreads) {
    float a = 0.f;
    for (int i = 0; i < used; ++i) a += ws.acc[(base + i) * D + d] * exp2f(ws.m[base + i] - M);
    o[d] = Pair<T>::FromFloat(a * inv);
  }
}

template <class T, int D>
cudaError_t PrefillFor(const PrefillParams& p, cudaStream_t stream) {
  constexpr int kRows = kWarps * RowsPerWarp<D>();
  const dim3 grid((p.q_tokens + kRows - 1) / kRows, p.heads, p.batch);
  PrefillKernel<T, D><<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

template <class T, int D>
cudaError_t DecodeFor(const DecodeParams& p, cudaStream_t stream) {
  const int parts = NumPartitions(p.max_context);
  DecodePartialKernel<T, D><<<dim3(parts, p.heads, p.batch), kThreads, 0, stream>>>(p, parts);
  DecodeMergeKernel<T, D><<<dim3(p.heads, p.batch), kThreads, 0, stream>>>(p, parts);
  return cudaGetLastError();
}

template <class T>
cudaError_t PrefillDispatch(const PrefillParams& p, cudaStream_t s) {
  switch (p.head_dim) {
    case 64: return PrefillFor<T, 64>(p, s);
    case 80: return PrefillFor<T, 80>(p, s);
    case 96: return PrefillFor<T, 96>(p, s);
    case 128: return PrefillFor<T, 128>(p, s);
    case 256: return PrefillFor<T, 256>(p, s);
  }
  return cudaErrorInvalidValue;
}

template <class T>
cudaError_t DecodeDispatch(const DecodeParams& p, cudaStream_t s) {
  switch (p.head_dim) {
    case 64: return DecodeFor<T, 64>(p, s);
    case 80: return DecodeFor<T, 80>(p, s);
    case 96: return DecodeFor<T, 96>(p, s);
    case 128: return DecodeFor<T, 128>(p, s);
    case 256: return DecodeFor<T, 256>(p, s);
  }
  return cudaErrorInvalidValue;
}

static_assert(sizeof(kAttentionHeadDims) / sizeof(int) == 5, "dispatch covers every supported head_dim");

bool HeadsOk(int heads, int kv_heads) { return heads > 0 && kv_heads > 0 && heads % kv_heads == 0; }

}  // namespace

size_t DecodeWorkspaceFloats(int batch, int heads, int head_dim, int max_context) {
  const size_t n = size_t(batch) * heads * NumPartitions(max_context);
  return n * (2 + size_t(head_dim));
}

cudaError_t LaunchPrefill(const PrefillParams& p, AttnDtype dtype, cudaStream_t stream) {
  if (!HeadsOk(p.heads, p.kv_heads) || p.q_tokens <= 0 || p.batch <= 0 || p.kv_tokens < 0) return cudaErrorInvalidValue;
  return dtype == AttnDtype::kFp16 ? PrefillDispatch<__half>(p, stream) : PrefillDispatch<__nv_bfloat16>(p, stream);
}

cudaError_t LaunchDecode(const DecodeParams& p, AttnDtype dtype, cudaStream_t stream) {
  if (!HeadsOk(p.heads, p.kv_heads) || p.batch <= 0 || p.max_context <= 0 || p.block_size <= 0) {
    return cudaErrorInvalidValue;
  }
  return dtype == AttnDtype::kFp16 ? DecodeDispatch<__half>(p, stream) : DecodeDispatch<__nv_bfloat16>(p, stream);
}

}  // namespace gpufleet::microbench
