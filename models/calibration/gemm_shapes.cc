// Measured GEMM shape corrections: thinning measured ratios to knots, and interpolating between them.
#include "models/calibration/gemm_shapes.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "models/calibration/fit.h"
#include "models/calibration/operator_model.h"

namespace gpufleet {
namespace {

bool WholeNumber(double x) { return std::fabs(x - std::round(x)) < 1e-6; }

// Log-linear interpolation of the log ratios at `x` (log m) between knots i and j.
double Interpolate(const std::vector<double>& x, const std::vector<double>& y, size_t i, size_t j, double at) {
  if (x[j] == x[i]) return y[i];
  const double w = (at - x[i]) / (x[j] - x[i]);
  return y[i] + w * (y[j] - y[i]);
}

// Knots: greedily extend each segment from its first point as far as every point inside stays within
// `tolerance` of the straight line, then start the next segment at its end (x increasing).
std::vector<size_t> Knots(const std::vector<double>& x, const std::vector<double>& y, double tolerance) {
  std::vector<size_t> knots = {0};
  size_t start = 0;
  while (start + 1 < x.size()) {
    size_t end = start + 1;
    for (size_t candidate = start + 2; candidate < x.size(); ++candidate) {
      bool fits = true;
      for (size_t i = start + 1; i < candidate && fits; ++i) {
        fits = std::fabs(Interpolate(x, y, start, candidate, x[i]) - y[i]) <= tolerance;
      }
      if (!fits) break;
      end = candidate;
    }
    knots.push_back(end);
    start = end;
  }
  return knots;
}

// Four significant digits: the ratios are measurements' ratios, and the profile stays readable.
double Round4(double v) {
  if (v == 0) return 0;
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(v))));
  return std::round(v * scale) / scale;
}

}  // namespace

std::optional<double> GemmShapeFactor(const std::vector<GemmShapeCorrection>& shapes, double m, double n, double k) {
  if (shapes.empty() || !(m > 0) || !WholeNumber(n) || !WholeNumber(k)) return std::nullopt;
  const std::pair<int64_t, int64_t> key{std::llround(n), std::llround(k)};
  auto it = std::lower_bound(shapes.begin(), shapes.end(), key, [](const GemmShapeCorrection& c, const auto& key) {
    return std::pair{c.n, c.k} < key;
  });
  if (it == shapes.end() || it->n != key.first || it->k != key.second || it->m.empty()) return std::nullopt;
  const std::vector<double>& ms = it->m;
  const std::vector<double>& f = it->factor;
  if (m <= ms.front()) return f.front();
  if (m >= ms.back()) return f.back();
  const size_t j = static_cast<size_t>(std::upper_bound(ms.begin(), ms.end(), m) - ms.begin());
  const size_t i = j - 1;
  const double w = std::log(m / ms[i]) / std::log(ms[j] / ms[i]);
  return std::exp((1 - w) * std::log(f[i]) + w * std::log(f[j]));
}

std::vector<GemmShapeCorrection> BuildGemmShapeCorrections(const std::vector<GemmSample>& samples,
                                                           const GpuSpec& gpu, const GemmParams& gemm,
                                                           double tolerance) {
  GpuProfile equation_only;
  equation_only.gemm = gemm;
  const OperatorModel model(equation_only, gpu, 0);
  // (n, k) -> m -> log ratios of every sample of that shape and size (repeats, or two models sharing it).
  std::map<std::pair<int64_t, int64_t>, std::map<int64_t, std::vector<double>>> ratios;
  for (const GemmSample& s : samples) {
    if (s.m <= 0 || s.n <= 0 || s.k <= 0 || !(s.time_s > 0)) continue;
    const double modelled = model.Gemm(GemmKind::kOther, static_cast<double>(s.m), static_cast<double>(s.n),
                                       static_cast<double>(s.k));
    ratios[{s.n, s.k}][s.m].push_back(std::log(s.time_s / modelled));
  }
  std::vector<GemmShapeCorrection> out;
  for (auto& [shape, by_m] : ratios) {
    if (by_m.size() < kMinGemmShapeSizes) continue;
    std::vector<double> x, y;
    for (auto& [m, logs] : by_m) {
      std::sort(logs.begin(), logs.end());
      const size_t h = logs.size() / 2;
      x.push_back(std::log(static_cast<double>(m)));
      y.push_back(logs.size() % 2 == 1 ? logs[h] : 0.5 * (logs[h - 1] + logs[h]));
    }
    GemmShapeCorrection c;
    c.n = shape.first;
    c.k = shape.second;
    for (size_t i : Knots(x, y, tolerance)) {
      c.m.push_back(std::round(std::exp(x[i])));
      c.factor.push_back(std::clamp(Round4(std::exp(y[i])), kMinGemmShapeFactor, kMaxGemmShapeFactor));
    }
    out.push_back(std::move(c));
  }
  return out;
}

GpuProfile FitGemmProfile(const std::vector<GemmSample>& train, const GpuSpec& gpu, const GemmParams& start,
                          bool shapes) {
  GpuProfile p;
  p.gemm = FitGemm(train, gpu, start);
  if (shapes) p.gemm_shapes = BuildGemmShapeCorrections(train, gpu, p.gemm);
  return p;
}

}  // namespace gpufleet
