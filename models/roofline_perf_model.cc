// Spec roofline iteration-time model (see roofline_perf_model.h for the equations' outline).
#include "models/roofline_perf_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gpufleet {

RooflinePerfModel::RooflinePerfModel(const PerfModelSpec& spec, const ReplicaHardware& hw) {
  const LlmSpec& m = *hw.llm;
  flops_per_s_ = hw.gpu->fp16_tflops * 1e12 * spec.compute_efficiency;
  bytes_per_s_ = hw.gpu->hbm_gbps * 1e9 * spec.memory_efficiency;
  double link_gbps = hw.node != nullptr && hw.node->intra_gbps > 0 ? hw.node->intra_gbps : hw.gpu->nvlink_gbps;
  if (hw.tp_link_gbps > 0) link_gbps = hw.tp_link_gbps;
  if (link_gbps <= 0) link_gbps = hw.gpu->pcie_gbps;
  link_bytes_per_s_ = link_gbps * 1e9;
  overhead_s_ = spec.iteration_overhead_s;
  alpha_s_ = spec.collective_latency_s + hw.tp_link_latency_s;
  s_ = ShardedShape::Of(m, hw.tensor_parallel);
}

double RooflinePerfModel::GemmTime(double m, double n, double k) const {
  const double flops = 2.0 * m * n * k;
  const double bytes = (m * k + k * n + m * n) * s_.dtype_bytes;
  return std::max(flops / flops_per_s_, bytes / bytes_per_s_);
}

IterationCost RooflinePerfModel::Cost(std::span<const SeqWork> batch) const {
  IterationCost cost;
  cost.activity_known = true;
  // One kernel of `flops` and `bytes`, `times` times: its roofline time, booked by its bound.
  auto kernel = [&](double flops, double bytes, double times) {
    const double tf = flops / flops_per_s_, tb = bytes / bytes_per_s_;
    cost.flops += times * flops;
    cost.hbm_bytes += times * bytes;
    (tf >= tb ? cost.compute_s : cost.memory_s) += times * std::max(tf, tb);
    return std::max(tf, tb);
  };
  auto gemm = [&](double m, double n, double k, double times) {
    return kernel(2.0 * m * n * k, (m * k + k * n + m * n) * s_.dtype_bytes, times);
  };
  double tokens = 0, attn_pairs = 0, kv_read_tokens = 0;
  for (const SeqWork& s : batch) {
    const double q = s.new_tokens, c = s.context_tokens;
    tokens += q;
    attn_pairs += q * c + q * (q + 1) / 2;  // causal: new token i attends to c + i keys
    kv_read_tokens += c + q;
  }
  const double seqs = static_cast<double>(batch.size());

  // Attention projections.
  const double L = s_.layers;
  const double qkv_n = (s_.heads + 2 * s_.kv_heads) * s_.head_dim;
  double layer = gemm(tokens, qkv_n, s_.hidden, L) + gemm(tokens, s_.hidden, s_.heads * s_.head_dim, L);

  // MLP: dense, or the experts the batch's tokens activate (expected number of distinct experts).
  if (s_.num_experts > 1) {
    const double active =
        s_.num_experts * (1.0 - std::pow(1.0 - s_.experts_per_token / s_.num_experts, tokens));
    const double rows_per_expert = tokens * s_.experts_per_token / std::max(active, 1.0);
    const double ups = (s_.gated ? 3.0 : 2.0) - 1;
    layer += active * (ups * gemm(rows_per_expert, s_.ffn, s_.hidden, L * active * ups) +
                       gemm(rows_per_expert, s_.hidden, s_.ffn, L * active));
    layer += gemm(tokens, s_.num_experts, s_.hidden, L);  // router
  } else {
    const double ups = (s_.gated ? 3.0 : 2.0) - 1;
    layer += ups * gemm(tokens, s_.ffn, s_.hidden, L * ups) + gemm(tokens, s_.hidden, s_.ffn, L);
  }

  // Attention core: QK^T and PV flops over the causal pairs; reads every KV token of the batch.
  const double attn_flops = 4.0 * s_.head_dim * s_.heads * attn_pairs;
  const double attn_bytes = (2.0 * s_.kv_heads * kv_read_tokens + 2.0 * s_.heads * tokens) * s_.head_dim * s_.dtype_bytes;
  layer += kernel(attn_flops, attn_bytes, L);

  // Norms, residual adds, rotary and activation: memory bound, about six passes over the hidden state
  // plus three over the MLP intermediate.
  layer += kernel(0, (6.0 * s_.hidden + 3.0 * s_.ffn * std::min(s_.experts_per_token, s_.num_experts)) * tokens *
                         s_.dtype_bytes,
                  L);

  // Two ring all-reduces of the hidden state per layer under tensor parallelism.
  if (s_.tp > 1) {
    const double bytes = tokens * s_.hidden * s_.dtype_bytes;
    const double steps = 2.0 * (s_.tp - 1);
    const double t = 2.0 * (steps * alpha_s_ + steps / s_.tp * bytes / link_bytes_per_s_);
    layer += t;
    cost.comm_s += L * t;
    cost.link_bytes += L * 2.0 * steps / s_.tp * bytes;
  }

  // LM head on the last position of each sequence.
  const double head = gemm(seqs, s_.vocab, s_.hidden, 1);
  cost.seconds = overhead_s_ + s_.layers * layer + head;
  return cost;
}

}  // namespace gpufleet
