// Where a GPU's power-model parameters come from: a fitted file in models/power/<GPU>.yaml (written by
// `gpufleet calibrate --power`), else the spec-derived defaults (power_model.h); a scenario's `gpu_power:`
// section overrides either. Files hold the parameters, how they were fitted and their cross-validated
// errors.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "models/power_model.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

// One measured set's errors of a fitted power model (fractions).
struct PowerFitError {
  std::string method;  // "leave one model out", "in-sample"
  int64_t n = 0;
  double median_ape = 0, mean_ape = 0, p90_ape = 0;
};

struct PowerParamsFile {
  GpuPowerParams params;
  std::string command;  // how it was made
  std::map<std::string, PowerFitError> fit;  // by measured set
};

// Reads the parameter keys (idle_w, active_w, pj_per_flop, pj_per_hbm_byte, pj_per_link_byte,
// flop_energy_clock_exponent, memory_clock_knee) present in `m` into `p`, each within its range; with
// `required`, the first five must be there.
absl::Status ReadPowerParamKeys(MapReader& m, bool required, GpuPowerParams* p);

// models/power (or $GPUFLEET_DATA_DIR/models/power).
std::string PowerParamsDir();
absl::StatusOr<PowerParamsFile> LoadPowerParamsFile(const std::string& path, const GpuSpec& gpu);
absl::Status WritePowerParamsFile(const PowerParamsFile& file, const std::string& path);
// The fitted file of `gpu` in `dir` when there is one, else DerivedPowerParams. A file that exists but
// does not load is an error (never silently replaced by the derived values).
absl::StatusOr<GpuPowerParams> PowerParamsForGpu(const GpuSpec& gpu, const std::string& dir = PowerParamsDir());

}  // namespace gpufleet
