// The per-GPU dimensions of a transformer under tensor parallelism, shared by the performance models:
// attention heads and the MLP are split across ranks; with fewer KV heads than ranks each rank keeps a
// replica of one KV head.
#pragma once

#include <algorithm>

#include "models/catalog.h"

namespace gpufleet {

struct ShardedShape {
  int tp = 1;
  double hidden = 0, head_dim = 0;
  double heads = 0, kv_heads = 0;  // per rank
  double ffn = 0, vocab = 0;       // per rank (ffn per expert)
  double layers = 0, num_experts = 1, experts_per_token = 1;
  bool gated = false;
  double dtype_bytes = 2;

  static ShardedShape Of(const LlmSpec& m, int tp) {
    ShardedShape s;
    s.tp = tp;
    s.hidden = m.hidden;
    s.head_dim = m.head_dim;
    s.heads = static_cast<double>(m.heads) / tp;
    s.kv_heads = std::max(1.0, static_cast<double>(m.kv_heads) / tp);
    s.ffn = static_cast<double>(m.ffn) / tp;
    s.vocab = static_cast<double>(m.vocab) / tp;
    s.layers = m.layers;
    s.num_experts = m.num_experts;
    s.experts_per_token = m.experts_per_token;
    s.gated = m.gated_mlp;
    s.dtype_bytes = m.dtype_bytes();
    return s;
  }
};

}  // namespace gpufleet
