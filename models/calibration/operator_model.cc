// The operator-level kernel-time equations (see gpu_profile.h for their parameters).
#include "models/calibration/operator_model.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "models/calibration/gemm_shapes.h"

namespace gpufleet {

OperatorModel::OperatorModel(const GpuProfile& profile, const GpuSpec& gpu, double link_gbps, double clock_scale,
                             double link_latency_s)
    : profile_(profile),
      peak_flops_(gpu.fp16_tflops * 1e12 * clock_scale),
      hbm_bytes_per_s_(gpu.hbm_gbps * 1e9),
      cache_bytes_(gpu.cache_mb * 1e6),
      sm_count_(gpu.sm_count),
      link_bytes_per_s_(std::max(link_gbps, 1.0) * 1e9),
      link_latency_s_(link_latency_s) {}

double OperatorModel::Gemm(GemmKind kind, double m, double n, double k, double compute_scale) const {
  if (!(m > 0 && n > 0 && k > 0)) return 0;  // no rows (an empty batch), no kernel
  // A shape measured on this GPU: the library's kernel choice for it, as a ratio to the equation.
  if (const std::optional<double> f = GemmShapeFactor(profile_.gemm_shapes, m, n, k)) {
    return *f * GemmEquation(1.0, m, n, k, compute_scale);
  }
  return GemmEquation(profile_.gemm.Factor(kind), m, n, k, compute_scale);
}

double OperatorModel::GemmEquation(double factor, double m, double n, double k, double compute_scale) const {
  const GemmParams& g = profile_.gemm;
  const double fill = (m / (m + g.m_half)) * (n / (n + g.n_half));
  double tc = 2.0 * m * n * k / (peak_flops_ * compute_scale * g.compute_efficiency * factor * fill);
  const double u = tc / g.sustained_s;
  tc *= 1.0 + g.sustained_slowdown * u / (1.0 + u);
  const double bytes = 2.0 * (m * k + k * n + m * n);
  const double tm =
      bytes / (hbm_bytes_per_s_ * g.memory_efficiency * (1.0 + g.cache_speedup * CacheResidency(bytes, cache_bytes_)));
  const double p = g.smoothness;
  // Smooth maximum: equals the larger term far from the ridge point, adds up to 2^(1/p) at it.
  const double hi = std::max(tc, tm), lo = std::min(tc, tm);
  return g.launch_s + hi * std::pow(1.0 + std::pow(lo / hi, p), 1.0 / p);
}

double OperatorModel::Stream(const std::string& kind, double rows, double bytes) const {
  return StreamTime(profile_.stream.at(kind), rows, bytes, hbm_bytes_per_s_, cache_bytes_, sm_count_);
}

double CacheResidency(double bytes, double cache_bytes) {
  if (cache_bytes <= 0) return 0;
  const double x = bytes / cache_bytes;
  return 1.0 / (1.0 + x * x * x * x);
}

double StreamTime(const StreamParams& s, double rows, double bytes, double hbm_bytes_per_s, double cache_bytes,
                  int sm_count) {
  double wave_scale = 1;
  if (rows > 0 && sm_count > 0) {
    const double wave = s.wave_rows_per_sm * sm_count;
    const double hi = std::max(rows, wave), lo = std::min(rows, wave);
    wave_scale = hi * std::pow(1.0 + std::pow(lo / hi, s.smoothness), 1.0 / s.smoothness) / rows;
  }
  const double bw = hbm_bytes_per_s * s.memory_efficiency *
                    (1.0 + s.cache_speedup * CacheResidency(bytes, cache_bytes * s.cache_fraction));
  return s.launch_s + bytes * wave_scale / bw;
}

double OperatorModel::AttentionPrefill(double flops, double kv_bytes, double compute_scale) const {
  const AttentionParams& a = profile_.attention;
  return a.launch_s + std::max(flops / (peak_flops_ * compute_scale * a.prefill_efficiency),
                               kv_bytes / (hbm_bytes_per_s_ * a.decode_memory_efficiency));
}

double OperatorModel::AttentionDecode(double kv_bytes) const {
  const AttentionParams& a = profile_.attention;
  return a.launch_s + kv_bytes / (hbm_bytes_per_s_ * a.decode_memory_efficiency);
}

double OperatorModel::AllReduce(double bytes, int ranks) const {
  if (ranks <= 1) return 0;
  const AllReduceParams& r = profile_.allreduce;
  const double steps = 2.0 * (ranks - 1);
  return r.launch_s + steps * (r.step_latency_s + link_latency_s_) +
         steps / ranks * bytes / (link_bytes_per_s_ * r.bandwidth_efficiency);
}

}  // namespace gpufleet
