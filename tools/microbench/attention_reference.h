// Straightforward CPU attention (double accumulation) against which the GPU kernels are checked at
// start-up and by --check-only. Same layouts and causal/GQA rules as attention_layout.h; inputs are the
// kernels' fp16/bf16 values already widened to float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <random>
#include <vector>

namespace gpufleet::microbench {

struct AttentionShape {
  int batch = 1;
  int q_tokens = 1;   // prefill: new tokens per sequence; decode: 1
  int kv_tokens = 0;  // prefill: cached context per sequence
  int heads = 1;
  int kv_heads = 1;
  int head_dim = 64;
};

// Causal prefill with context: O for Q [b][q][h][d], K/V [b][kv+q][kvh][d].
std::vector<float> PrefillReference(const AttentionShape& s, const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, float scale);

// The paged KV cache of a decode batch: K/V caches [num_blocks][block_size][kv_heads][head_dim], the
// block table [batch][max_blocks_per_seq] and each sequence's number of keys (context_lens).
struct PagedKvLayout {
  int block_size = 16;
  int num_blocks = 0;
  int max_blocks_per_seq = 0;
  std::vector<int32_t> block_table;
  std::vector<int32_t> context_lens;
};

// The paged cache of sequences with `lens` keys each, in `block_size` blocks handed out in a random order
// (as a long-running server's allocator leaves them); table entries past a sequence's last block are 0,
// a valid block never attended to.
PagedKvLayout ShuffledPagedLayout(const std::vector<int>& lens, int block_size, std::mt19937& rng);

// Decode (one query token per sequence) over the paged cache: Q and O [b][h][d].
std::vector<float> DecodeReference(const AttentionShape& s, const PagedKvLayout& kv, const std::vector<float>& q,
                                   const std::vector<float>& k_cache, const std::vector<float>& v_cache, float scale);

struct Comparison {
  bool ok = true;
  double max_abs_error = 0;
  size_t worst_index = 0;
  std::string Describe() const;
};
// Elementwise |got - want| <= atol + rtol * |want|.
Comparison CompareOutputs(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol);

}  // namespace gpufleet::microbench
