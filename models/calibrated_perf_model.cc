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
    : ops_(profile, *hw.gpu, LinkGbps(hw), clock_scale),
      s_(ShardedShape::Of(*hw.llm, hw.tensor_parallel)) {}

std::string CalibratedPerfModel::Label() const {
  const GpuProfile& p = ops_.profile();
  std::string host = p.framework_from.empty() ? "" : absl::StrCat("; serving-stack times of ", p.framework_from);
  if (!p.gemm_shapes.empty()) absl::StrAppend(&host, "; ", p.gemm_shapes.size(), " measured GEMM shapes");
  if (p.calibrated()) return absl::StrCat("calibrated operator model (", p.gpu, ": calibrated", host, ")");
  return absl::StrCat("calibrated operator model (", p.gpu, ": UNCALIBRATED, efficiencies of ", p.derived_from, host,
                      ")");
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
  const double kv_bytes_per_token = 2.0 * s_.kv_heads * s_.head_dim * s_.dtype_bytes;
  const FrameworkParams& f = ops_.profile().framework;
  const double up_n = (s_.gated ? 2.0 : 1.0) * s_.ffn;
  // One layer's projections; under MoE the experts the batch activates (expected distinct count), each
  // on its share of the tokens.
  auto gemms = [&](double cs) {
    double t = ops_.Gemm(GemmKind::kQkv, tokens, (s_.heads + 2 * s_.kv_heads) * s_.head_dim, s_.hidden, cs) +
               ops_.Gemm(GemmKind::kAttnOut, tokens, s_.hidden, s_.heads * s_.head_dim, cs);
    if (s_.num_experts > 1) {
      const double active = s_.num_experts * (1.0 - std::pow(1.0 - s_.experts_per_token / s_.num_experts, tokens));
      const double rows = tokens * s_.experts_per_token / std::max(active, 1.0);
      t += active * (ops_.Gemm(GemmKind::kMlpUp, rows, up_n, s_.hidden, cs) +
                     ops_.Gemm(GemmKind::kMlpDown, rows, s_.hidden, s_.ffn, cs));
      t += ops_.Gemm(GemmKind::kOther, tokens, s_.num_experts, s_.hidden, cs);
    } else {
      t += ops_.Gemm(GemmKind::kMlpUp, tokens, up_n, s_.hidden, cs) + ops_.Gemm(GemmKind::kMlpDown, tokens, s_.hidden, s_.ffn, cs);
    }
    return t;
  };
  // Sustained-load clocks for this much tensor-core work: by the GEMMs' busy time at boost clock, or
  // (older profiles) by the tokens.
  const double busy = f.throttle_busy_s > 0 ? s_.layers * gemms(1.0) : 0.0;
  const double cs = f.ComputeScale(tokens, s_.tp, busy);
  IterationBreakdown b;

  b.gemm_s = s_.layers * gemms(cs);

  double attention = 0;
  if (any_prefill) {
    attention += ops_.AttentionPrefill(4.0 * s_.head_dim * s_.heads * pairs, prefill_kv_tokens * kv_bytes_per_token, cs);
  }
  if (any_decode) attention += ops_.AttentionDecode(decode_kv_tokens * kv_bytes_per_token);
  b.attention_s = s_.layers * attention;

  // Two norms, rotary on q and k, the MLP activation, two residual adds: bytes read + written.
  const double active_ffn = s_.ffn * std::min(s_.experts_per_token, s_.num_experts);
  const double act_bytes = (s_.gated ? 3.0 : 2.0) * tokens * active_ffn * s_.dtype_bytes;
  const double stream =
      2 * ops_.Stream("norm", tokens, 2.0 * tokens * s_.hidden * s_.dtype_bytes) +
      ops_.Stream("rope", tokens, 2.0 * tokens * (s_.heads + s_.kv_heads) * s_.head_dim * s_.dtype_bytes) +
      ops_.Stream("activation", tokens, act_bytes) +
      2 * ops_.Stream("residual_add", tokens, 3.0 * tokens * s_.hidden * s_.dtype_bytes);
  b.stream_s = s_.layers * stream + ops_.Stream("embedding", tokens, 2.0 * tokens * s_.hidden * s_.dtype_bytes);

  if (s_.tp > 1) b.allreduce_s = s_.layers * 2 * ops_.AllReduce(tokens * s_.hidden * s_.dtype_bytes, s_.tp);

  b.lm_head_s = ops_.Gemm(GemmKind::kOther, static_cast<double>(batch.size()), s_.vocab, s_.hidden, cs);
  b.framework_s = f.iteration_overhead_s + f.per_sequence_s * static_cast<double>(batch.size()) + f.per_rank_s * s_.tp;
  const double launch = f.prefill_launch_per_layer_s * s_.layers;
  if (any_prefill && launch > 0) {
    // Eager launch overlaps the GPU's work: the host adds what the smooth maximum adds to the GPU time.
    const double gpu = b.gpu_s(), p = f.launch_overlap;
    const double hi = std::max(gpu, launch), lo = std::min(gpu, launch);
    b.framework_s += hi * std::pow(1.0 + std::pow(lo / hi, p), 1.0 / p) - gpu;
  }
  return b;
}

}  // namespace gpufleet
