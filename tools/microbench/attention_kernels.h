// The project's own attention kernels (CUDA cores, fp32 accumulation, fp16/bf16 data): a flash-style
// causal prefill with cached context and a split-KV decode over a paged KV cache. Clarity over peak speed:
// cuDNN's SDPA or FlashAttention would be faster; these measure what the project's kernels do. Layouts in
// attention_layout.h. Plain C++ interface (no Abseil) so that nvcc and the host compiler both include it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace gpufleet::microbench {

enum class AttnDtype { kFp16, kBf16 };

struct PrefillParams {
  const void* q = nullptr;  // [batch][q_tokens][heads][head_dim]
  const void* k = nullptr;  // [batch][kv_tokens + q_tokens][kv_heads][head_dim]
  const void* v = nullptr;
  void* o = nullptr;        // like q
  int batch = 0, q_tokens = 0, kv_tokens = 0, heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 0;          // softmax scale, usually 1/sqrt(head_dim)
};

struct DecodeParams {
  const void* q = nullptr;        // [batch][heads][head_dim]
  const void* k_cache = nullptr;  // [num_blocks][block_size][kv_heads][head_dim]
  const void* v_cache = nullptr;
  const int32_t* block_table = nullptr;   // [batch][max_blocks_per_seq]
  const int32_t* context_lens = nullptr;  // [batch], keys per sequence (>= 1)
  void* o = nullptr;              // [batch][heads][head_dim]
  float* workspace = nullptr;     // DecodeWorkspaceFloats(...) floats
  int batch = 0, heads = 0, kv_heads = 0, head_dim = 0, block_size = 0, max_blocks_per_seq = 0;
  int max_context = 0;            // the longest context_lens entry (sizes the split)
  float scale = 0;
};

// Floats of scratch the decode kernel needs: per (sequence, head, partition) a max, a sum and head_dim
// partial outputs.
size_t DecodeWorkspaceFloats(int batch, int heads, int head_dim, int max_context);

// cudaErrorInvalidValue for an unsupported head_dim (see kAttentionHeadDims) or inconsistent heads.
cudaError_t LaunchPrefill(const PrefillParams& p, AttnDtype dtype, cudaStream_t stream);
// Two kernels: partial attention per 512-key partition, then their log-sum-exp merge.
cudaError_t LaunchDecode(const DecodeParams& p, AttnDtype dtype, cudaStream_t stream);

}  // namespace gpufleet::microbench
