// GPU attention kernels vs the CPU reference (see attention_check.h).
#include "tools/microbench/attention_check.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/attention_kernels.h"
#include "tools/microbench/attention_layout.h"
#include "tools/microbench/attention_reference.h"
#include "tools/microbench/check_tensors.h"

namespace gpufleet::microbench {
namespace {


// Output rounding dominates: fp16 keeps 11 significant bits, bf16 8.
double Rtol(AttnDtype t) { return t == AttnDtype::kFp16 ? 4e-3 : 2e-2; }
double Atol(AttnDtype t) { return t == AttnDtype::kFp16 ? 2e-3 : 1e-2; }

absl::StatusOr<Comparison> CheckPrefill(AttnDtype t, int d, cudaStream_t stream, std::mt19937& rng) {
  const bool bf16 = t == AttnDtype::kBf16;
  AttentionShape s{.batch = 2, .q_tokens = 37, .kv_tokens = 19, .heads = 4, .kv_heads = 2, .head_dim = d};
  const size_t qn = size_t(s.batch) * s.q_tokens * s.heads * d;
  const size_t kvn = size_t(s.batch) * (s.kv_tokens + s.q_tokens) * s.kv_heads * d;
  HostTensor q = RandomTensor(qn, bf16, rng), k = RandomTensor(kvn, bf16, rng), v = RandomTensor(kvn, bf16, rng);
  DeviceBuffer dq, dk, dv, dout;
  GF_RETURN_IF_ERROR(Upload(dq, q.bits.data(), qn * 2));
  GF_RETURN_IF_ERROR(Upload(dk, k.bits.data(), kvn * 2));
  GF_RETURN_IF_ERROR(Upload(dv, v.bits.data(), kvn * 2));
  GF_RETURN_IF_ERROR(dout.Reserve(qn * 2));
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  PrefillParams p;
  p.q = dq.data();
  p.k = dk.data();
  p.v = dv.data();
  p.o = dout.data();
  p.batch = s.batch;
  p.q_tokens = s.q_tokens;
  p.kv_tokens = s.kv_tokens;
  p.heads = s.heads;
  p.kv_heads = s.kv_heads;
  p.head_dim = d;
  p.scale = scale;
  GF_CUDA_RETURN_IF_ERROR(LaunchPrefill(p, t, stream));
  GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  GF_ASSIGN_OR_RETURN(std::vector<float> got, Download(dout, qn, bf16));
  return CompareOutputs(got, PrefillReference(s, q.values, k.values, v.values, scale), Atol(t), Rtol(t));
}

absl::StatusOr<Comparison> CheckDecode(AttnDtype t, int d, cudaStream_t stream, std::mt19937& rng) {
  const bool bf16 = t == AttnDtype::kBf16;
  const std::vector<int> lens = {1, 100, 1100};  // 1100 keys span three 512-key partitions
  AttentionShape s{.batch = 3, .q_tokens = 1, .kv_tokens = 0, .heads = 8, .kv_heads = 2, .head_dim = d};
  const PagedKvLayout kv = ShuffledPagedLayout(lens, kPagedBlockSize, rng);
  const size_t cache = size_t(kv.num_blocks) * kPagedBlockSize * s.kv_heads * d;
  const size_t qn = size_t(s.batch) * s.heads * d;
  HostTensor q = RandomTensor(qn, bf16, rng), kc = RandomTensor(cache, bf16, rng), vc = RandomTensor(cache, bf16, rng);
  DeviceBuffer dq, dk, dv, dout, dtable, dlens, dws;
  GF_RETURN_IF_ERROR(Upload(dq, q.bits.data(), qn * 2));
  GF_RETURN_IF_ERROR(Upload(dk, kc.bits.data(), cache * 2));
  GF_RETURN_IF_ERROR(Upload(dv, vc.bits.data(), cache * 2));
  GF_RETURN_IF_ERROR(Upload(dtable, kv.block_table.data(), kv.block_table.size() * 4));
  GF_RETURN_IF_ERROR(Upload(dlens, kv.context_lens.data(), kv.context_lens.size() * 4));
  GF_RETURN_IF_ERROR(dout.Reserve(qn * 2));
  GF_RETURN_IF_ERROR(dws.Reserve(DecodeWorkspaceFloats(s.batch, s.heads, d, 1100) * sizeof(float)));
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  DecodeParams p;
  p.q = dq.data();
  p.k_cache = dk.data();
  p.v_cache = dv.data();
  p.block_table = static_cast<const int32_t*>(dtable.data());
  p.context_lens = static_cast<const int32_t*>(dlens.data());
  p.o = dout.data();
  p.workspace = static_cast<float*>(dws.data());
  p.batch = s.batch;
  p.heads = s.heads;
  p.kv_heads = s.kv_heads;
  p.head_dim = d;
  p.block_size = kPagedBlockSize;
  p.max_blocks_per_seq = kv.max_blocks_per_seq;
  p.max_context = 1100;
  p.scale = scale;
  GF_CUDA_RETURN_IF_ERROR(LaunchDecode(p, t, stream));
  GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  GF_ASSIGN_OR_RETURN(std::vector<float> got, Download(dout, qn, bf16));
  return CompareOutputs(got, DecodeReference(s, kv, q.values, kc.values, vc.values, scale), Atol(t), Rtol(t));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CheckAttentionKernels(const GpuInfo& gpu, cudaStream_t stream) {
  GF_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu.index));
  std::mt19937 rng(2024);
  std::vector<std::string> lines, failures;
  for (AttnDtype t : {AttnDtype::kFp16, AttnDtype::kBf16}) {
    const char* tn = t == AttnDtype::kFp16 ? "fp16" : "bf16";
    for (int d : kAttentionHeadDims) {
      GF_ASSIGN_OR_RETURN(Comparison pre, CheckPrefill(t, d, stream, rng));
      lines.push_back(fmt::format("prefill {} d={:<3} batch 2, 37 new + 19 cached tokens, 4/2 heads: {}", tn, d,
                                  pre.Describe()));
      if (!pre.ok) failures.push_back(lines.back());
      GF_ASSIGN_OR_RETURN(Comparison dec, CheckDecode(t, d, stream, rng));
      lines.push_back(fmt::format("decode  {} d={:<3} batch 3, 1/100/1100 paged keys, 8/2 heads:  {}", tn, d,
                                  dec.Describe()));
      if (!dec.ok) failures.push_back(lines.back());
    }
  }
  if (!failures.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("attention kernels disagree with the CPU reference:\n  ", absl::StrJoin(failures, "\n  ")));
  }
  return lines;
}

}  // namespace gpufleet::microbench
