// Calibrated iteration time: one transformer layer's kernels, times the layers, plus LM head and the
// serving framework's per-iteration time (see calibrated_perf_model.h).
#include "models/calibrated_perf_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

double LinkGbps(const ReplicaHardware& hw) {
  if (hw.tp_link_gbps > 0) return hw.tp_link_gbps;
  return hw.node != nullptr && hw.node->intra_gbps > 0 ? hw.node->intra_gbps : hw.gpu->nvlink_gbps;
}

}  // namespace

CalibratedPerfModel::CalibratedPerfModel(const GpuProfile& profile, const ReplicaHardware& hw, double clock_scale)
    : ops_(profile, *hw.gpu, LinkGbps(hw), clock_scale, hw.tp_link_latency_s),
      s_(ShardedShape::Of(*hw.llm, hw.tensor_parallel)),
      peak_flops_(hw.gpu->fp16_tflops * 1e12),
      peak_bytes_per_s_(hw.gpu->hbm_gbps * 1e9) {}

IterationCost CalibratedPerfModel::Cost(std::span<const SeqWork> batch) const {
  IterationBreakdown b = Breakdown(batch);
  b.activity.seconds = b.total();
  return b.activity;
}

std::string CalibratedPerfModel::Label() const {
  const GpuProfile& p = ops_.profile();
  std::string host = p.framework_from.empty() ? "" : absl::StrCat("; serving-stack times of ", p.framework_from);
  if (!p.gemm_shapes.empty()) absl::StrAppend(&host, "; ", p.gemm_shapes.size(), " measured GEMM shapes");
  if (p.calibrated()) return absl::StrCat("calibrated operator model (", p.gpu, ": calibrated", host, ")");
  return absl::StrCat("calibrated operator model (", p.gpu, ": UNCALIBRATED, efficiencies of ", p.derived_from, host,
                      ")");
}

const CalibratedPerfModel::TokenTerms& CalibratedPerfModel::Terms(double tokens) const {
  auto [it, fresh] = by_tokens_.try_emplace(static_cast<int64_t>(tokens));
  if (!fresh) return it->second;
  TokenTerms& t = it->second;
  const FrameworkParams& f = ops_.profile().framework;
  IterationCost& act = t.gemm_activity;
  act.activity_known = true;
  auto gemm_bytes = [&](double m, double n, double k) { return (m * k + n * k + m * n) * s_.dtype_bytes; };
  const double up_n = (s_.gated ? 2.0 : 1.0) * s_.ffn;
  // One layer's projections; under MoE the experts the batch activates (expected distinct count), each
  // on its share of the tokens.
  // `times` > 0 books each GEMM `times` times (the layers) into the activity.
  auto gemms = [&](double cs, double times) {
    auto one = [&](GemmKind kind, double m, double n, double k, double count) {
      const double time = ops_.Gemm(kind, m, n, k, cs);
      if (times > 0) Book(&act, time, 2.0 * m * n * k, gemm_bytes(m, n, k), times * count);
      return count * time;
    };
    double time = one(GemmKind::kQkv, tokens, (s_.heads + 2 * s_.kv_heads) * s_.head_dim, s_.hidden, 1) +
                  one(GemmKind::kAttnOut, tokens, s_.hidden, s_.heads * s_.head_dim, 1);
    if (s_.num_experts > 1) {
      const double active = s_.num_experts * (1.0 - std::pow(1.0 - s_.experts_per_token / s_.num_experts, tokens));
      const double rows = tokens * s_.experts_per_token / std::max(active, 1.0);
      time += one(GemmKind::kMlpUp, rows, up_n, s_.hidden, active) +
              one(GemmKind::kMlpDown, rows, s_.hidden, s_.ffn, active);
      time += one(GemmKind::kOther, tokens, s_.num_experts, s_.hidden, 1);
    } else {
      time += one(GemmKind::kMlpUp, tokens, up_n, s_.hidden, 1) + one(GemmKind::kMlpDown, tokens, s_.hidden, s_.ffn, 1);
    }
    return time;
  };
  // Sustained-load clocks for this much tensor-core work: by the GEMMs' busy time at boost clock, or
  // (older profiles) by the tokens.
  const double busy = f.throttle_busy_s > 0 ? s_.layers * gemms(1.0, 0) : 0.0;
  t.compute_scale = f.ComputeScale(tokens, s_.tp, busy);
  t.gemm_s = s_.layers * gemms(t.compute_scale, s_.layers);

  // Two norms, rotary on q and k, the MLP activation, two residual adds: bytes read + written.
  const double active_ffn = s_.ffn * std::min(s_.experts_per_token, s_.num_experts);
  const double act_bytes = (s_.gated ? 3.0 : 2.0) * tokens * active_ffn * s_.dtype_bytes;
  const double stream =
      2 * ops_.Stream("norm", tokens, 2.0 * tokens * s_.hidden * s_.dtype_bytes) +
      ops_.Stream("rope", tokens, 2.0 * tokens * (s_.heads + s_.kv_heads) * s_.head_dim * s_.dtype_bytes) +
      ops_.Stream("activation", tokens, act_bytes) +
      2 * ops_.Stream("residual_add", tokens, 3.0 * tokens * s_.hidden * s_.dtype_bytes);
  t.stream_s = s_.layers * stream + ops_.Stream("embedding", tokens, 2.0 * tokens * s_.hidden * s_.dtype_bytes);
  t.stream_bytes = s_.layers * (4.0 * tokens * s_.hidden * s_.dtype_bytes +
                                2.0 * tokens * (s_.heads + s_.kv_heads) * s_.head_dim * s_.dtype_bytes + act_bytes +
                                6.0 * tokens * s_.hidden * s_.dtype_bytes) +
                   2.0 * tokens * s_.hidden * s_.dtype_bytes;
  return t;
}

// Books `times` kernels of `t` seconds each with their FLOPs and bytes, classed by the spec's roofline.
void CalibratedPerfModel::Book(IterationCost* act, double t, double flops, double bytes, double times) const {
  act->flops += times * flops;
  act->hbm_bytes += times * bytes;
  (flops / peak_flops_ >= bytes / peak_bytes_per_s_ ? act->compute_s : act->memory_s) += times * t;
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
  const TokenTerms terms = Terms(tokens);  // a copy: a later call may grow the cache
  IterationCost act = terms.gemm_activity;
  const double cs = terms.compute_scale;
  IterationBreakdown b;
  b.gemm_s = terms.gemm_s;

  double attention = 0;
  if (any_prefill) {
    const double flops = 4.0 * s_.head_dim * s_.heads * pairs, bytes = prefill_kv_tokens * kv_bytes_per_token;
    const double t = ops_.AttentionPrefill(flops, bytes, cs);
    Book(&act, t, flops, bytes, s_.layers);
    attention += t;
  }
  if (any_decode) {
    const double bytes = decode_kv_tokens * kv_bytes_per_token;
    const double t = ops_.AttentionDecode(bytes);
    Book(&act, t, 4.0 * s_.head_dim * s_.heads * decode_kv_tokens, bytes, s_.layers);
    attention += t;
  }
  b.attention_s = s_.layers * attention;

  b.stream_s = terms.stream_s;
  act.memory_s += b.stream_s;
  act.hbm_bytes += terms.stream_bytes;

  if (s_.tp > 1) {
    const double bytes = tokens * s_.hidden * s_.dtype_bytes;
    b.allreduce_s = s_.layers * 2 * ops_.AllReduce(bytes, s_.tp);
    act.comm_s += b.allreduce_s;
    act.link_bytes += s_.layers * 2 * 2.0 * (s_.tp - 1) / s_.tp * bytes;  // a ring all-reduce sends 2(n-1)/n
  }

  const double seqs = static_cast<double>(batch.size());
  b.lm_head_s = ops_.Gemm(GemmKind::kOther, seqs, s_.vocab, s_.hidden, cs);
  Book(&act, b.lm_head_s, 2.0 * seqs * s_.vocab * s_.hidden,
       (seqs * s_.hidden + s_.vocab * s_.hidden + seqs * s_.vocab) * s_.dtype_bytes, 1);
  b.framework_s = f.iteration_overhead_s + f.per_sequence_s * static_cast<double>(batch.size()) + f.per_rank_s * s_.tp;
  const double launch = f.prefill_launch_per_layer_s * s_.layers;
  if (any_prefill && launch > 0) {
    // Eager launch overlaps the GPU's work: the host adds what the smooth maximum adds to the GPU time.
    const double gpu = b.gpu_s(), p = f.launch_overlap;
    const double hi = std::max(gpu, launch), lo = std::min(gpu, launch);
    b.framework_s += hi * std::pow(1.0 + std::pow(lo / hi, p), 1.0 / p) - gpu;
  }
  b.activity = act;
  return b;
}

}  // namespace gpufleet
