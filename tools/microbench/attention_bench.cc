// Attention measurement setup (see attention_bench.h).
#include "tools/microbench/attention_bench.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/attention_kernels.h"
#include "tools/microbench/cache_rotation.h"
#include "tools/microbench/attention_layout.h"

namespace gpufleet::microbench {

void AttentionBench::ReleaseBuffers() {
  for (DeviceBuffer* b : {&q_, &k_, &v_, &o_, &table_, &lens_, &workspace_}) b->Release();
}

absl::StatusOr<TimedResult> AttentionBench::Measure(const Measurement& m, const MethodOptions& method,
                                                    PowerSampler* sampler) {
  if (m.dtype != Dtype::kFp16 && m.dtype != Dtype::kBf16) {
    return absl::UnimplementedError(absl::StrCat("attention kernels are fp16/bf16, not ", DtypeName(m.dtype)));
  }
  if (!AttentionHeadDimSupported(static_cast<int>(m.head_dim))) {
    return absl::UnimplementedError(absl::StrCat("attention kernels do not support head_dim ", m.head_dim));
  }
  const AttnDtype dtype = m.dtype == Dtype::kFp16 ? AttnDtype::kFp16 : AttnDtype::kBf16;
  const FillType fill = m.dtype == Dtype::kFp16 ? FillType::kF16 : FillType::kBf16;
  const float scale = 1.0f / std::sqrt(static_cast<float>(m.head_dim));
  cudaStream_t stream = stream_;
  const std::vector<TimedStream> streams = {{gpu_.index, stream_}};
  // K and V cold (rotated copies, see cache_rotation.h), Q and O hot; copies on 256-byte boundaries.
  const ColdRotation rotation = RotationFor(m, gpu_.l2_bytes);
  const size_t copies = static_cast<size_t>(rotation.copies);
  auto stride_of = [](size_t elems) { return (elems * 2 + 255) / 256 * 256; };
  TimingRequest request;
  request.cycle = rotation.copies;
  request.steady = m.steady;

  if (m.op == Op::kAttnPrefill) {
    const size_t qn = static_cast<size_t>(m.batch) * m.q_tokens * m.heads * m.head_dim;
    const size_t kvn = static_cast<size_t>(m.batch) * (m.kv_tokens + m.q_tokens) * m.kv_heads * m.head_dim;
    const size_t kv_stride = stride_of(kvn);
    GF_RETURN_IF_ERROR(q_.ReserveRandom(qn, fill, stream));
    GF_RETURN_IF_ERROR(k_.ReserveRandom(kv_stride * copies / 2, fill, stream));
    GF_RETURN_IF_ERROR(v_.ReserveRandom(kv_stride * copies / 2, fill, stream));
    GF_RETURN_IF_ERROR(o_.Reserve(qn * 2));
    PrefillParams p;
    p.q = q_.data();
    p.k = k_.data();
    p.v = v_.data();
    p.o = o_.data();
    p.batch = static_cast<int>(m.batch);
    p.q_tokens = static_cast<int>(m.q_tokens);
    p.kv_tokens = static_cast<int>(m.kv_tokens);
    p.heads = static_cast<int>(m.heads);
    p.kv_heads = static_cast<int>(m.kv_heads);
    p.head_dim = static_cast<int>(m.head_dim);
    p.scale = scale;
    const char* k0 = static_cast<const char*>(k_.data());
    const char* v0 = static_cast<const char*>(v_.data());
    return TimeCalls(
        streams,
        [=](int64_t call) {
          PrefillParams pc = p;
          const size_t offset = static_cast<size_t>(call % rotation.copies) * kv_stride;
          pc.k = k0 + offset;
          pc.v = v0 + offset;
          return CudaStatus(LaunchPrefill(pc, dtype, stream), "prefill kernel");
        },
        method, sampler, request);
  }
  if (m.op != Op::kAttnDecode) return absl::InvalidArgumentError(absl::StrCat("AttentionBench cannot measure ", OpName(m.op)));

  const int context = static_cast<int>(m.kv_tokens + 1);  // the new token's K/V is in the cache
  const int blocks_per_seq = (context + kPagedBlockSize - 1) / kPagedBlockSize;
  const int num_blocks = static_cast<int>(m.batch) * blocks_per_seq;
  const size_t cache = static_cast<size_t>(num_blocks) * kPagedBlockSize * m.kv_heads * m.head_dim;
  const size_t qn = static_cast<size_t>(m.batch) * m.heads * m.head_dim;
  const size_t ws = DecodeWorkspaceFloats(static_cast<int>(m.batch), static_cast<int>(m.heads),
                                          static_cast<int>(m.head_dim), context);
  const size_t cache_stride = stride_of(cache);
  GF_RETURN_IF_ERROR(q_.ReserveRandom(qn, fill, stream));
  GF_RETURN_IF_ERROR(k_.ReserveRandom(cache_stride * copies / 2, fill, stream));
  GF_RETURN_IF_ERROR(v_.ReserveRandom(cache_stride * copies / 2, fill, stream));
  GF_RETURN_IF_ERROR(o_.Reserve(qn * 2));
  GF_RETURN_IF_ERROR(workspace_.Reserve(ws * sizeof(float)));
  GF_RETURN_IF_ERROR(table_.Reserve(static_cast<size_t>(num_blocks) * sizeof(int32_t)));
  GF_RETURN_IF_ERROR(lens_.Reserve(static_cast<size_t>(m.batch) * sizeof(int32_t)));
  std::vector<int32_t> table(static_cast<size_t>(num_blocks));
  std::iota(table.begin(), table.end(), 0);
  std::shuffle(table.begin(), table.end(), std::mt19937(12345));
  const std::vector<int32_t> lens(static_cast<size_t>(m.batch), context);
  GF_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(table_.data(), table.data(), table.size() * sizeof(int32_t),
                                          cudaMemcpyHostToDevice, stream));
  GF_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(lens_.data(), lens.data(), lens.size() * sizeof(int32_t), cudaMemcpyHostToDevice, stream));
  GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));  // the host vectors go out of scope
  DecodeParams p;
  p.q = q_.data();
  p.k_cache = k_.data();
  p.v_cache = v_.data();
  p.block_table = static_cast<const int32_t*>(table_.data());
  p.context_lens = static_cast<const int32_t*>(lens_.data());
  p.o = o_.data();
  p.workspace = static_cast<float*>(workspace_.data());
  p.batch = static_cast<int>(m.batch);
  p.heads = static_cast<int>(m.heads);
  p.kv_heads = static_cast<int>(m.kv_heads);
  p.head_dim = static_cast<int>(m.head_dim);
  p.block_size = kPagedBlockSize;
  p.max_blocks_per_seq = blocks_per_seq;
  p.max_context = context;
  p.scale = scale;
  const char* k0 = static_cast<const char*>(k_.data());
  const char* v0 = static_cast<const char*>(v_.data());
  return TimeCalls(
      streams,
      [=](int64_t call) {
        DecodeParams pc = p;
        const size_t offset = static_cast<size_t>(call % rotation.copies) * cache_stride;
        pc.k_cache = k0 + offset;
        pc.v_cache = v0 + offset;
        return CudaStatus(LaunchDecode(pc, dtype, stream), "decode kernels");
      },
      method, sampler, request);
}

}  // namespace gpufleet::microbench
