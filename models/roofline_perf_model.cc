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
  if (link_gbps <= 0) link_gbps = hw.gpu->pcie_gbps;
  link_bytes_per_s_ = link_gbps * 1e9;
  overhead_s_ = spec.iteration_overhead_s;
  alpha_s_ = spec.collective_latency_s;
  tp_ = hw.tensor_parallel;
  dtype_bytes_ = m.dtype_bytes();
  hidden_ = m.hidden;
  head_dim_ = m.head_dim;
  heads_local_ = static_cast<double>(m.heads) / tp_;
  // With fewer KV heads than ranks, each rank keeps a replica of one KV head.
  kv_heads_local_ = std::max(1.0, static_cast<double>(m.kv_heads) / tp_);
  ffn_local_ = static_cast<double>(m.ffn) / tp_;
  vocab_local_ = static_cast<double>(m.vocab) / tp_;
  layers_ = m.layers;
  num_experts_ = m.num_experts;
  experts_per_token_ = m.experts_per_token;
  ffn_matrices_ = m.gated_mlp ? 3.0 : 2.0;
}

double RooflinePerfModel::GemmTime(double m, double n, double k) const {
  const double flops = 2.0 * m * n * k;
  const double bytes = (m * k + k * n + m * n) * dtype_bytes_;
  return std::max(flops / flops_per_s_, bytes / bytes_per_s_);
}

double RooflinePerfModel::IterationTime(std::span<const SeqWork> batch) const {
  double tokens = 0, attn_pairs = 0, kv_read_tokens = 0;
  for (const SeqWork& s : batch) {
    const double q = s.new_tokens, c = s.context_tokens;
    tokens += q;
    attn_pairs += q * c + q * (q + 1) / 2;  // causal: new token i attends to c + i keys
    kv_read_tokens += c + q;
  }
  const double seqs = static_cast<double>(batch.size());

  // Attention projections.
  const double qkv_n = (heads_local_ + 2 * kv_heads_local_) * head_dim_;
  double layer = GemmTime(tokens, qkv_n, hidden_) + GemmTime(tokens, hidden_, heads_local_ * head_dim_);

  // MLP: dense, or the experts the batch's tokens activate (expected number of distinct experts).
  if (num_experts_ > 1) {
    const double active =
        num_experts_ * (1.0 - std::pow(1.0 - experts_per_token_ / num_experts_, tokens));
    const double rows_per_expert = tokens * experts_per_token_ / std::max(active, 1.0);
    layer += active * ((ffn_matrices_ - 1) * GemmTime(rows_per_expert, ffn_local_, hidden_) +
                       GemmTime(rows_per_expert, hidden_, ffn_local_));
    layer += GemmTime(tokens, num_experts_, hidden_);  // router
  } else {
    layer += (ffn_matrices_ - 1) * GemmTime(tokens, ffn_local_, hidden_) + GemmTime(tokens, hidden_, ffn_local_);
  }

  // Attention core: QK^T and PV flops over the causal pairs; reads every KV token of the batch.
  const double attn_flops = 4.0 * head_dim_ * heads_local_ * attn_pairs;
  const double attn_bytes = (2.0 * kv_heads_local_ * kv_read_tokens + 2.0 * heads_local_ * tokens) * head_dim_ * dtype_bytes_;
  layer += std::max(attn_flops / flops_per_s_, attn_bytes / bytes_per_s_);

  // Norms, residual adds, rotary and activation: memory bound, about six passes over the hidden state
  // plus three over the MLP intermediate.
  layer += (6.0 * hidden_ + 3.0 * ffn_local_ * std::min(experts_per_token_, num_experts_)) * tokens * dtype_bytes_ /
           bytes_per_s_;

  // Two ring all-reduces of the hidden state per layer under tensor parallelism.
  if (tp_ > 1) {
    const double bytes = tokens * hidden_ * dtype_bytes_;
    const double steps = 2.0 * (tp_ - 1);
    layer += 2.0 * (steps * alpha_s_ + steps / tp_ * bytes / link_bytes_per_s_);
  }

  // LM head on the last position of each sequence.
  const double head = GemmTime(seqs, vocab_local_, hidden_);
  return overhead_s_ + layers_ * layer + head;
}

}  // namespace gpufleet
