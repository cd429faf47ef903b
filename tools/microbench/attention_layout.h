// Facts about the project's own attention kernels that the host-side plan and the CUDA code share
// (plain C++, no Abseil, so .cu files include it too): supported head dimensions and the paged-KV layout.
//
// Layouts (row-major, dtype fp16 or bf16):
//   prefill  Q, O  [batch][q_tokens][heads][head_dim]
//            K, V  [batch][kv_tokens + q_tokens][kv_heads][head_dim]   (context first, then the new tokens)
//            query i of a sequence sits at position kv_tokens + i and attends to keys 0..kv_tokens + i.
//   decode   Q, O  [batch][heads][head_dim]                              (one new token per sequence)
//            K, V cache  [num_blocks][block_size][kv_heads][head_dim]     (paged, vLLM-style)
//            block_table [batch][max_blocks_per_seq] (int32), context_lens [batch] (int32)
//            the new token's K/V are already in the cache: a sequence with kv_tokens cached tokens
//            attends to kv_tokens + 1 keys.
// Query head h reads KV head h / (heads / kv_heads) (grouped-query attention).
#pragma once

namespace gpufleet::microbench {

inline constexpr int kAttentionHeadDims[] = {64, 80, 96, 128, 256};
inline constexpr int kPagedBlockSize = 16;         // tokens per KV block (vLLM's default)
inline constexpr int kDecodePartitionTokens = 512;  // keys per split-KV partition of the decode kernel

constexpr bool AttentionHeadDimSupported(int head_dim) {
  for (int d : kAttentionHeadDims) {
    if (d == head_dim) return true;
  }
  return false;
}

}  // namespace gpufleet::microbench
