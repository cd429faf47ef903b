// Nelder-Mead simplex minimization (standard coefficients: reflect 1, expand 2, contract 0.5, shrink 0.5).
#include "models/calibration/nelder_mead.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gpufleet {
namespace {

MinimizeResult RunOnce(const std::function<double(const std::vector<double>&)>& f, const std::vector<double>& x0,
                       const MinimizeOptions& o, int budget) {
  const size_t n = x0.size();
  std::vector<std::vector<double>> pts(n + 1, x0);
  std::vector<double> val(n + 1);
  for (size_t i = 0; i < n; ++i) pts[i + 1][i] += o.initial_step;
  int evals = 0;
  auto eval = [&](const std::vector<double>& x) {
    ++evals;
    const double v = f(x);
    return std::isfinite(v) ? v : 1e300;
  };
  for (size_t i = 0; i <= n; ++i) val[i] = eval(pts[i]);
  std::vector<size_t> order(n + 1);
  std::vector<double> centroid(n), trial(n), trial2(n);
  while (evals < budget) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return val[a] < val[b]; });
    const size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (std::fabs(val[worst] - val[best]) <= o.tolerance * (1 + std::fabs(val[best]))) break;
    std::fill(centroid.begin(), centroid.end(), 0.0);
    for (size_t i = 0; i <= n; ++i) {
      if (i == worst) continue;
      for (size_t d = 0; d < n; ++d) centroid[d] += pts[i][d] / static_cast<double>(n);
    }
    auto along = [&](double t, std::vector<double>& out) {
      for (size_t d = 0; d < n; ++d) out[d] = centroid[d] + t * (pts[worst][d] - centroid[d]);
    };
    along(-1.0, trial);
    const double fr = eval(trial);
    if (fr < val[best]) {
      along(-2.0, trial2);
      const double fe = eval(trial2);
      if (fe < fr) { pts[worst] = trial2; val[worst] = fe; } else { pts[worst] = trial; val[worst] = fr; }
    } else if (fr < val[second]) {
      pts[worst] = trial;
      val[worst] = fr;
    } else {
      along(fr < val[worst] ? -0.5 : 0.5, trial2);
      const double fc = eval(trial2);
      if (fc < std::min(fr, val[worst])) {
        pts[worst] = trial2;
        val[worst] = fc;
      } else {
        for (size_t i = 0; i <= n; ++i) {
          if (i == best) continue;
          for (size_t d = 0; d < n; ++d) pts[i][d] = pts[best][d] + 0.5 * (pts[i][d] - pts[best][d]);
          val[i] = eval(pts[i]);
        }
      }
    }
  }
  const size_t best = static_cast<size_t>(std::min_element(val.begin(), val.end()) - val.begin());
  return {pts[best], val[best], evals};
}

}  // namespace

MinimizeResult NelderMead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                          const MinimizeOptions& options) {
  MinimizeResult result{x0, f(x0), 1};
  for (int round = 0; round <= options.restarts && result.evaluations < options.max_evaluations; ++round) {
    MinimizeResult r = RunOnce(f, result.x, options, options.max_evaluations - result.evaluations);
    result.evaluations += r.evaluations;
    const bool improved = r.value < result.value - options.tolerance;
    if (r.value < result.value) {
      result.x = r.x;
      result.value = r.value;
    }
    if (!improved && round > 0) break;
  }
  return result;
}

}  // namespace gpufleet
