// Parameter fitting for the operator model (see fit.h).
#include "models/calibration/fit.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "models/calibration/nelder_mead.h"
#include "models/calibration/operator_model.h"
#include "sim/metrics/percentile.h"

namespace gpufleet {
namespace {

// Bounded parameters live in (lo, hi) through a logistic transform; positive ones through exp.
double ToBounded(double x, double lo, double hi) { return lo + (hi - lo) / (1.0 + std::exp(-x)); }
double FromBounded(double v, double lo, double hi) {
  const double u = std::clamp((v - lo) / (hi - lo), 1e-9, 1 - 1e-9);
  return std::log(u / (1 - u));
}

// x: launch, efficiency, m_half, n_half, memory efficiency, smoothness, cache speedup, then the log
// factors of qkv, attention output and MLP up (MLP down's makes their geometric mean 1), then the
// sustained slowdown and its time scale.
GemmParams GemmFromX(const std::vector<double>& x) {
  GemmParams g;
  g.launch_s = std::exp(x[0]);
  g.compute_efficiency = ToBounded(x[1], 0.01, 1.0);
  g.m_half = std::exp(x[2]);
  g.n_half = std::exp(x[3]);
  g.memory_efficiency = ToBounded(x[4], 0.01, 1.0);
  g.smoothness = ToBounded(x[5], 0.5, 20.0);
  g.cache_speedup = ToBounded(x[6], 0.0, 4.0);
  const double a = ToBounded(x[7], -1, 1), b = ToBounded(x[8], -1, 1), c = ToBounded(x[9], -1, 1);
  g.qkv_factor = std::exp(a);
  g.attn_out_factor = std::exp(b);
  g.mlp_up_factor = std::exp(c);
  g.mlp_down_factor = std::exp(-(a + b + c));
  g.sustained_slowdown = ToBounded(x[10], 0.0, 1.0);
  g.sustained_s = std::exp(ToBounded(x[11], std::log(1e-6), 0.0));  // 1 us .. 1 s
  return g;
}

std::vector<double> GemmToX(const GemmParams& g) {
  return {std::log(g.launch_s), FromBounded(g.compute_efficiency, 0.01, 1.0), std::log(std::max(g.m_half, 1e-3)),
          std::log(std::max(g.n_half, 1e-3)), FromBounded(g.memory_efficiency, 0.01, 1.0),
          FromBounded(g.smoothness, 0.5, 20.0), FromBounded(std::max(g.cache_speedup, 0.1), 0.0, 4.0),
          FromBounded(std::log(g.qkv_factor), -1, 1), FromBounded(std::log(g.attn_out_factor), -1, 1),
          FromBounded(std::log(g.mlp_up_factor), -1, 1),
          // Started off zero so the search sees the slowdown's slope.
          FromBounded(std::max(g.sustained_slowdown, 0.05), 0.0, 1.0),
          FromBounded(std::log(g.sustained_s), std::log(1e-6), 0.0)};
}

// Pseudo-Huber loss on the log error: quadratic below kKernelLossScale (5%), linear above. Kernel
// timings have a typical error set by the model's smooth curves and a tail set by library kernel
// switches (cuBLAS picks another tile at a neighbouring size, a norm spills out of L2); a squared loss
// lets that tail bend the curve away from the typical kernel, which is what a simulation sums.
constexpr double kKernelLossScale = 0.05;

double RobustLogLoss(double log_error) {
  const double r = log_error / kKernelLossScale;
  return 2 * kKernelLossScale * kKernelLossScale * (std::sqrt(1 + r * r) - 1);
}

template <class Sample, class Predict>
double MeanRobustLogLoss(const std::vector<Sample>& samples, Predict predict) {
  double sum = 0;
  for (const Sample& s : samples) sum += RobustLogLoss(std::log(predict(s) / s.time_s));
  return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
}

// The projection a vidur operator computes.
GemmKind GemmKindOf(const std::string& op) {
  if (op == "attn_pre_proj") return GemmKind::kQkv;
  if (op == "attn_post_proj") return GemmKind::kAttnOut;
  if (op == "mlp_up_proj") return GemmKind::kMlpUp;
  if (op == "mlp_down_proj") return GemmKind::kMlpDown;
  return GemmKind::kOther;
}

GpuProfile WithGemm(const GemmParams& g) {
  GpuProfile p;
  p.gemm = g;
  return p;
}

}  // namespace

double PredictGemm(const GemmParams& p, const GpuSpec& gpu, const GemmSample& s) {
  return PredictGemm(OperatorModel(WithGemm(p), gpu, 0), s);
}

double PredictGemm(const OperatorModel& model, const GemmSample& s) {
  return model.Gemm(GemmKindOf(s.op), static_cast<double>(s.m), static_cast<double>(s.n), static_cast<double>(s.k));
}

double PredictStream(const StreamParams& p, const GpuSpec& gpu, const ElementwiseSample& s) {
  return StreamTime(p, static_cast<double>(s.tokens), s.bytes, gpu.hbm_gbps * 1e9, gpu.cache_mb * 1e6, gpu.sm_count);
}

double PredictAllReduce(const AllReduceParams& p, const GpuSpec& gpu, double link_gbps, const CollectiveSample& s) {
  GpuProfile profile;
  profile.allreduce = p;
  return OperatorModel(profile, gpu, link_gbps).AllReduce(s.bytes, s.ranks);
}

int GemmParameters(const std::vector<GemmSample>& samples) {
  for (const GemmSample& s : samples)
    if (GemmKindOf(s.op) != GemmKind::kOther) return 12;
  return 9;  // GemmFromX's 12 less the three projection factors, which FitGemm then keeps
}

absl::Status CheckEnoughPoints(const std::string& where, size_t points, int parameters, const std::string& what,
                               const std::string& model) {
  if (points >= static_cast<size_t>(parameters)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", points, " ", what, "; expected at least ", parameters,
                                                 " to fit the ", parameters, " parameters of ", model));
}

GemmParams FitGemm(const std::vector<GemmSample>& samples, const GpuSpec& gpu, const GemmParams& start) {
  std::vector<GemmKind> kinds;
  bool projections = false;
  for (const GemmSample& s : samples) {
    kinds.push_back(GemmKindOf(s.op));
    projections |= kinds.back() != GemmKind::kOther;
  }
  auto loss = [&](const std::vector<double>& x) {
    const GemmParams g = GemmFromX(x);
    const OperatorModel model(WithGemm(g), gpu, 0);
    double sum = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const GemmSample& s = samples[i];
      const double t =
          model.Gemm(kinds[i], static_cast<double>(s.m), static_cast<double>(s.n), static_cast<double>(s.k));
      sum += RobustLogLoss(std::log(t / s.time_s));
    }
    return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
  };
  MinimizeOptions options;
  options.max_evaluations = 6000;
  GemmParams fitted = GemmFromX(NelderMead(loss, GemmToX(start), options).x);
  if (!projections) {
    // Nothing constrains the projection factors (microbenchmark shapes): keep the starting ones.
    fitted.qkv_factor = start.qkv_factor;
    fitted.attn_out_factor = start.attn_out_factor;
    fitted.mlp_up_factor = start.mlp_up_factor;
    fitted.mlp_down_factor = start.mlp_down_factor;
  }
  return fitted;
}

StreamParams FitStream(const std::vector<ElementwiseSample>& samples, const GpuSpec& gpu, const StreamParams& start) {
  auto from_x = [](const std::vector<double>& x) {
    // Efficiencies above 1 are allowed: the byte counts are a model of what each kernel moves, and a
    // kernel that fuses or caches does better than it.
    return StreamParams{std::exp(x[0]), ToBounded(x[1], 0.01, 4.0), ToBounded(x[2], 0.5, 20.0), ToBounded(x[3], 0.0, 4.0),
                        ToBounded(x[4], 0.01, 64.0), ToBounded(x[5], 0.05, 2.0)};
  };
  auto loss = [&](const std::vector<double>& x) {
    const StreamParams p = from_x(x);
    return MeanRobustLogLoss(samples, [&](const ElementwiseSample& s) { return PredictStream(p, gpu, s); });
  };
  return from_x(NelderMead(loss, {std::log(start.launch_s), FromBounded(start.memory_efficiency, 0.01, 4.0),
                                  FromBounded(start.smoothness, 0.5, 20.0),
                                  FromBounded(std::max(start.cache_speedup, 0.1), 0.0, 4.0),
                                  FromBounded(start.wave_rows_per_sm, 0.01, 64.0),
                                  FromBounded(start.cache_fraction, 0.05, 2.0)})
                    .x);
}

std::string StreamKindOf(const std::string& op) {
  if (op == "input_layernorm" || op == "post_attention_layernorm") return "norm";
  if (op == "attn_rope") return "rope";
  if (op == "mlp_act") return "activation";
  if (op == "add") return "residual_add";
  if (op == "emb") return "embedding";
  return "";
}

double PredictStream(const std::map<std::string, StreamParams>& p, const GpuSpec& gpu, const ElementwiseSample& s) {
  return PredictStream(p.at(StreamKindOf(s.op)), gpu, s);
}

std::map<std::string, StreamParams> FitStreams(const std::vector<ElementwiseSample>& samples, const GpuSpec& gpu,
                                               const std::map<std::string, StreamParams>& start) {
  std::map<std::string, StreamParams> out = start;
  for (const std::string& kind : StreamKinds()) {
    std::vector<ElementwiseSample> mine;
    for (const auto& s : samples)
      if (StreamKindOf(s.op) == kind) mine.push_back(s);
    if (!mine.empty()) out[kind] = FitStream(mine, gpu, start.at(kind));
  }
  return out;
}

AllReduceParams FitAllReduce(const std::vector<CollectiveSample>& samples, const GpuSpec& gpu, double link_gbps,
                             const AllReduceParams& start) {
  auto from_x = [](const std::vector<double>& x) {
    return AllReduceParams{std::exp(x[0]), std::exp(x[1]), ToBounded(x[2], 0.01, 1.2)};
  };
  auto loss = [&](const std::vector<double>& x) {
    const AllReduceParams p = from_x(x);
    double sum = 0;
    for (const CollectiveSample& s : samples) {
      const double e = std::log(PredictAllReduce(p, gpu, link_gbps, s) / s.time_s);
      sum += e * e;
    }
    return samples.empty() ? 0 : sum / static_cast<double>(samples.size());
  };
  return from_x(NelderMead(loss, {std::log(start.launch_s), std::log(start.step_latency_s),
                                  FromBounded(start.bandwidth_efficiency, 0.01, 1.2)})
                    .x);
}

FitError SummarizeErrors(std::vector<double> ape, const std::string& method) {
  FitError e;
  e.method = method;
  e.n = static_cast<int64_t>(ape.size());
  if (ape.empty()) return e;
  double sum = 0;
  for (double a : ape) sum += a;
  e.mape = sum / static_cast<double>(ape.size());
  e.max_ape = *std::max_element(ape.begin(), ape.end());
  e.median_ape = Percentile(ape, 50);
  e.p90_ape = Percentile(ape, 90);
  return e;
}

}  // namespace gpufleet
