// Calibrated iteration time: one transformer layer's kernels, times the layers, plus LM head and the
// serving framework's per-iteration time (see calibrated_perf_model.h).
#include "models/calibrated_perf_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

double LinkGbps(const ReplicaHardware& hw) {
  return hw.node != nullptr && hw.node->intra_gbps > 0 ? hw.node->intra_gbps : hw.gpu->nvlink_gbps;
}

}  // namespace

CalibratedPerfModel::CalibratedPerfModel(const GpuProfile& profile, const ReplicaHardware& hw, double clock_scale)
    : decode_ops_(profile, *hw.gpu, LinkGbps(hw), clock_scale),
      prefill_ops_(profile, *hw.gpu, LinkGbps(hw), clock_scale * profile.framework.prefill_compute_scale),
      tp_(hw.tensor_parallel) {
  const LlmSpec& m = *hw.llm;
  hidden_ = m.hidden;
  head_dim_ = m.head_dim;
  heads_local_ = static_cast<double>(m.heads) / tp_;
  kv_heads_local_ = std::max(1.0, static_cast<double>(m.kv_heads) / tp_);
  ffn_local_ = static_cast<double>(m.ffn) / tp_;
  vocab_local_ = static_cast<double>(m.vocab) / tp_;
  layers_ = m.layers;
  num_experts_ = m.num_experts;
  experts_per_token_ = m.experts_per_token;
  gated_ = m.gated_mlp;
  dtype_bytes_ = m.dtype_bytes();
}

std::string CalibratedPerfModel::Label() const {
  const GpuProfile& p = decode_ops_.profile();
  if (p.calibrated()) return absl::StrCat("calibrated operator model (", p.gpu, ": calibrated)");
  return absl::StrCat("calibrated operator model (", p.gpu, ": UNCALIBRATED, efficiencies of ", p.derived_from, ")");
}

IterationBreakdown CalibratedPerfModel::Breakdown(std::span<const SeqWork> batch) const {
  double tokens = 0, pairs = 0, prefill_kv_tokens = 0, decode_kv_tokens = 0;
  bool any_prefill = false, any_decode = false;
  for (const SeqWork& s : batch) {
    const double q = s.new_tokens, c = s.context_tokens;
    tokens += q;
    if (s.new_tokens == 1 && s.context_tokens > 0) {
      any_decode = true;
      decode_kv_tokens += c + 1;
    } else {
      any_prefill = true;
      pairs += q * c + q * (q + 1) / 2;
      prefill_kv_tokens += c + q;
    }
  }
  const double kv_bytes_per_token = 2.0 * kv_heads_local_ * head_dim_ * dtype_bytes_;
  const OperatorModel& ops_ = any_prefill ? prefill_ops_ : decode_ops_;
  IterationBreakdown b;

  double gemm = ops_.Gemm(tokens, (heads_local_ + 2 * kv_heads_local_) * head_dim_, hidden_) +
                ops_.Gemm(tokens, hidden_, heads_local_ * head_dim_);
  const double up_n = (gated_ ? 2.0 : 1.0) * ffn_local_;
  if (num_experts_ > 1) {
    // The experts the batch activates (expected distinct count), each on its share of the tokens.
    const double active = num_experts_ * (1.0 - std::pow(1.0 - experts_per_token_ / num_experts_, tokens));
    const double rows = tokens * experts_per_token_ / std::max(active, 1.0);
    gemm += active * (ops_.Gemm(rows, up_n, hidden_) + ops_.Gemm(rows, hidden_, ffn_local_));
    gemm += ops_.Gemm(tokens, num_experts_, hidden_);
  } else {
    gemm += ops_.Gemm(tokens, up_n, hidden_) + ops_.Gemm(tokens, hidden_, ffn_local_);
  }
  b.gemm_s = layers_ * gemm;

  double attention = 0;
  if (any_prefill) attention += ops_.AttentionPrefill(4.0 * head_dim_ * heads_local_ * pairs, prefill_kv_tokens * kv_bytes_per_token);
  if (any_decode) attention += ops_.AttentionDecode(decode_kv_tokens * kv_bytes_per_token);
  b.attention_s = layers_ * attention;

  // Two norms, rotary on q and k, the MLP activation, two residual adds: bytes read + written.
  const double active_ffn = ffn_local_ * std::min(experts_per_token_, num_experts_);
  const double act_bytes = (gated_ ? 3.0 : 2.0) * tokens * active_ffn * dtype_bytes_;
  const double stream = 2 * ops_.Stream("norm", 2.0 * tokens * hidden_ * dtype_bytes_) +
                        ops_.Stream("rope", 2.0 * tokens * (heads_local_ + kv_heads_local_) * head_dim_ * dtype_bytes_) +
                        ops_.Stream("activation", act_bytes) +
                        2 * ops_.Stream("residual_add", 3.0 * tokens * hidden_ * dtype_bytes_);
  b.stream_s = layers_ * stream + ops_.Stream("embedding", 2.0 * tokens * hidden_ * dtype_bytes_);

  if (tp_ > 1) b.allreduce_s = layers_ * 2 * ops_.AllReduce(tokens * hidden_ * dtype_bytes_, tp_);

  b.lm_head_s = ops_.Gemm(static_cast<double>(batch.size()), vocab_local_, hidden_);
  const FrameworkParams& f = ops_.profile().framework;
  b.framework_s = f.iteration_overhead_s + f.per_sequence_s * static_cast<double>(batch.size()) + f.per_rank_s * tp_ +
                  (any_prefill ? f.prefill_overhead_s : 0.0);
  return b;
}

}  // namespace gpufleet
