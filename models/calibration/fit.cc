// Parameter fitting for the operator model (see fit.h).
#include "models/calibration/fit.h"

#include <algorithm>
#include <cmath>

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

GemmParams GemmFromX(const std::vector<double>& x) {
  GemmParams g;
  g.launch_s = std::exp(x[0]);
  g.compute_efficiency = ToBounded(x[1], 0.01, 1.0);
  g.m_half = std::exp(x[2]);
  g.n_half = std::exp(x[3]);
  g.memory_efficiency = ToBounded(x[4], 0.01, 1.0);
  g.smoothness = ToBounded(x[5], 0.5, 20.0);
  g.cache_speedup = ToBounded(x[6], 0.0, 4.0);
  return g;
}

std::vector<double> GemmToX(const GemmParams& g) {
  return {std::log(g.launch_s), FromBounded(g.compute_efficiency, 0.01, 1.0), std::log(std::max(g.m_half, 1e-3)),
          std::log(std::max(g.n_half, 1e-3)), FromBounded(g.memory_efficiency, 0.01, 1.0),
          FromBounded(g.smoothness, 0.5, 20.0), FromBounded(std::max(g.cache_speedup, 0.1), 0.0, 4.0)};
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

GpuProfile WithGemm(const GemmParams& g) {
  GpuProfile p;
  p.gemm = g;
  return p;
}

}  // namespace

double PredictGemm(const GemmParams& p, const GpuSpec& gpu, const GemmSample& s) {
  return OperatorModel(WithGemm(p), gpu, 0).Gemm(static_cast<double>(s.m), static_cast<double>(s.n), static_cast<double>(s.k));
}

double PredictStream(const StreamParams& p, const GpuSpec& gpu, const ElementwiseSample& s) {
  return StreamTime(p, static_cast<double>(s.tokens), s.bytes, gpu.hbm_gbps * 1e9, gpu.cache_mb * 1e6, gpu.sm_count);
}

double PredictAllReduce(const AllReduceParams& p, const GpuSpec& gpu, double link_gbps, const CollectiveSample& s) {
  GpuProfile profile;
  profile.allreduce = p;
  return OperatorModel(profile, gpu, link_gbps).AllReduce(s.bytes, s.ranks);
}

GemmParams FitGemm(const std::vector<GemmSample>& samples, const GpuSpec& gpu, const GemmParams& start) {
  auto loss = [&](const std::vector<double>& x) {
    const GemmParams g = GemmFromX(x);
    const OperatorModel model(WithGemm(g), gpu, 0);
    return MeanRobustLogLoss(samples, [&](const GemmSample& s) {
      return model.Gemm(static_cast<double>(s.m), static_cast<double>(s.n), static_cast<double>(s.k));
    });
  };
  MinimizeOptions options;
  options.max_evaluations = 6000;
  return GemmFromX(NelderMead(loss, GemmToX(start), options).x);
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
