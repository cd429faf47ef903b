// `gpufleet calibrate --power --source {mlenergy,inference-bench} PATH --gpu GPU -o FILE`: fits the GPU's
// power-model parameters (models/calibration/power_fit.h) to the measured power of published serving runs,
// each simulated once per parameter, and writes models/power/<GPU>.yaml with its leave-one-model-out
// errors.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gpufleet {

struct PowerCalibrationRequest {
  std::vector<std::pair<std::string, std::string>> sets;  // (source, path), the first the --source one
  std::string gpu, framework = "vLLM", stack, catalog, out, command;
  int jobs = 2;
};

// Runs the fit and prints it; returns the process exit code.
int RunPowerCalibration(const PowerCalibrationRequest& r);

}  // namespace gpufleet
