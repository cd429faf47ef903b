// A small derivative-free minimizer (Nelder-Mead simplex) for fitting the performance model's few
// parameters to measurements. Deterministic: same start, same answer.
#pragma once

#include <functional>
#include <vector>

namespace gpufleet {

struct MinimizeOptions {
  int max_evaluations = 20000;
  double initial_step = 0.5;   // simplex edge along each coordinate
  double tolerance = 1e-10;    // stop when the simplex's function values differ by less than this
  int restarts = 2;            // restart from the best point (helps escape a collapsed simplex)
};

struct MinimizeResult {
  std::vector<double> x;
  double value = 0;
  int evaluations = 0;
};

MinimizeResult NelderMead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                          const MinimizeOptions& options = {});

}  // namespace gpufleet
