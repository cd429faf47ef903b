// Fitting a GPU's power parameters (power_model.h) to measured serving runs. The simulated power of a run
// is linear in the parameters at full clock: P = idle + active_w x a + pj_per_flop x f + pj_per_hbm_byte x b
// + pj_per_link_byte x l, where a, f, b, l are what the run's simulation draws per unit of each parameter
// (found by simulating it with each parameter alone set to one). The fit is non-negative least squares on
// relative errors; its honest error is leave-one-model-out (each model's runs predicted by a fit that never
// saw that model).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "models/power_params.h"

namespace gpufleet {

inline constexpr int kPowerParameters = 4;  // active_w, pj_per_flop, pj_per_hbm_byte, pj_per_link_byte
inline constexpr std::array<const char*, kPowerParameters> kPowerParameterNames = {
    "active_w", "pj_per_flop", "pj_per_hbm_byte", "pj_per_link_byte"};

struct PowerSample {
  std::string set;    // "mlenergy", "inference-bench"
  std::string model;  // the cross-validation fold: the model, or another grouping when there is one model
  std::string label;  // for reports: file:row, model, TP, batch
  double measured_w = 0;  // one GPU's mean power
  double idle_w = 0;
  std::array<double, kPowerParameters> per_unit{};  // W per unit of each parameter
};

struct PowerFitResult {
  std::array<double, kPowerParameters> theta{};
  std::map<std::string, PowerFitError> errors;  // by set: leave one model out; "all (in-sample)"
  std::vector<double> cv_prediction_w;           // per sample, from the fit without its model
};

double PredictPower(const PowerSample& s, const std::array<double, kPowerParameters>& theta);
// Non-negative weighted least squares on (predicted - measured) / measured. Parameters that no sample
// exercises (all per-unit values zero, e.g. link bytes without tensor parallelism) stay 0.
std::array<double, kPowerParameters> FitPowerTheta(const std::vector<PowerSample>& samples);
// The fit on everything, and its leave-one-fold-out errors per set (PowerSample::model is the fold;
// `fold_name` names it in the method: "leave one model out").
PowerFitResult FitPower(const std::vector<PowerSample>& samples, const std::string& fold_name = "model");

}  // namespace gpufleet
