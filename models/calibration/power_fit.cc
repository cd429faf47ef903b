// Non-negative least squares for the power parameters and their leave-one-model-out errors (power_fit.h).
#include "models/calibration/power_fit.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace gpufleet {
namespace {

// Solves the weighted least-squares problem restricted to the parameters in `mask` (Gaussian elimination
// on the normal equations, 4 x 4 at most); false when singular.
bool SolveSubset(const std::vector<PowerSample>& s, unsigned mask, std::array<double, kPowerParameters>* theta) {
  std::vector<int> idx;
  for (int k = 0; k < kPowerParameters; ++k)
    if (mask & (1u << k)) idx.push_back(k);
  const size_t n = idx.size();
  theta->fill(0);
  if (n == 0) return true;
  std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0));
  for (const PowerSample& x : s) {
    const double w = 1.0 / (x.measured_w * x.measured_w);
    const double y = x.measured_w - x.idle_w;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) a[i][j] += w * x.per_unit[idx[i]] * x.per_unit[idx[j]];
      a[i][n] += w * x.per_unit[idx[i]] * y;
    }
  }
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
    if (std::fabs(a[pivot][c]) < 1e-300) return false;
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k <= n; ++k) a[r][k] -= f * a[c][k];
    }
  }
  for (size_t i = 0; i < n; ++i) (*theta)[idx[i]] = a[i][n] / a[i][i];
  return true;
}

double Loss(const std::vector<PowerSample>& s, const std::array<double, kPowerParameters>& theta) {
  double sum = 0;
  for (const PowerSample& x : s) {
    const double e = PredictPower(x, theta) / x.measured_w - 1;
    sum += e * e;
  }
  return sum;
}

PowerFitError ErrorsOf(const std::vector<double>& apes, const std::string& method) {
  PowerFitError e;
  e.method = method;
  e.n = static_cast<int64_t>(apes.size());
  if (apes.empty()) return e;
  std::vector<double> v = apes;
  std::sort(v.begin(), v.end());
  e.median_ape = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  double sum = 0;
  for (double x : v) sum += x;
  e.mean_ape = sum / static_cast<double>(v.size());
  e.p90_ape = v[std::min(v.size() - 1, static_cast<size_t>(std::ceil(0.9 * static_cast<double>(v.size()))) - 1)];
  return e;
}

}  // namespace

double PredictPower(const PowerSample& s, const std::array<double, kPowerParameters>& theta) {
  double p = s.idle_w;
  for (int k = 0; k < kPowerParameters; ++k) p += theta[k] * s.per_unit[k];
  return p;
}

std::array<double, kPowerParameters> FitPowerTheta(const std::vector<PowerSample>& samples) {
  // Parameters the data cannot see stay out of every subset.
  unsigned seen = 0;
  for (const PowerSample& x : samples)
    for (int k = 0; k < kPowerParameters; ++k)
      if (x.per_unit[k] > 0) seen |= 1u << k;
  std::array<double, kPowerParameters> best{};
  double best_loss = Loss(samples, best);
  // Every subset of the seen parameters: the best feasible (all >= 0) solution is the NNLS optimum.
  for (unsigned mask = 1; mask < (1u << kPowerParameters); ++mask) {
    if ((mask & ~seen) != 0) continue;
    std::array<double, kPowerParameters> t{};
    if (!SolveSubset(samples, mask, &t)) continue;
    if (std::any_of(t.begin(), t.end(), [](double v) { return v < 0; })) continue;
    const double l = Loss(samples, t);
    if (l < best_loss) {
      best_loss = l;
      best = t;
    }
  }
  return best;
}

PowerFitResult FitPower(const std::vector<PowerSample>& samples, const std::string& fold_name) {
  PowerFitResult r;
  r.theta = FitPowerTheta(samples);
  std::set<std::string> models;
  for (const PowerSample& s : samples) models.insert(s.model);
  r.cv_prediction_w.assign(samples.size(), 0);
  for (const std::string& held : models) {
    std::vector<PowerSample> train;
    for (const PowerSample& s : samples)
      if (s.model != held) train.push_back(s);
    const auto theta = train.empty() ? r.theta : FitPowerTheta(train);
    for (size_t i = 0; i < samples.size(); ++i)
      if (samples[i].model == held) r.cv_prediction_w[i] = PredictPower(samples[i], theta);
  }
  std::map<std::string, std::vector<double>> by_set;
  std::vector<double> in_sample;
  for (size_t i = 0; i < samples.size(); ++i) {
    by_set[samples[i].set].push_back(std::fabs(r.cv_prediction_w[i] / samples[i].measured_w - 1));
    in_sample.push_back(std::fabs(PredictPower(samples[i], r.theta) / samples[i].measured_w - 1));
  }
  for (const auto& [set, apes] : by_set) r.errors[set] = ErrorsOf(apes, "leave one " + fold_name + " out");
  r.errors["all"] = ErrorsOf(in_sample, "in-sample");
  return r;
}

}  // namespace gpufleet
