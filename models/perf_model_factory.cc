// Builds the perf model a scenario's `perf_model.type` names.
#include "absl/strings/str_cat.h"
#include "models/calibrated_perf_model.h"
#include "models/constant_perf_model.h"
#include "models/measured_perf_model.h"
#include "models/perf_model.h"
#include "models/roofline_perf_model.h"

namespace gpufleet {

absl::StatusOr<std::unique_ptr<PerfModel>> MakePerfModel(const PerfModelSpec& spec, const ReplicaHardware& hw) {
  if (spec.type == "roofline") return std::make_unique<RooflinePerfModel>(spec, hw);
  if (spec.type == "constant") return std::make_unique<ConstantPerfModel>(spec.constant_iteration_s);
  if (spec.type == "calibrated") {
    if (hw.profile == nullptr) return absl::InternalError("calibrated perf model without a profile");
    return std::make_unique<CalibratedPerfModel>(*hw.profile, hw);
  }
  if (spec.type == "measured") {
    auto model = MeasuredPerfModel::FromFile(spec.measured_table, spec.measured_hardware, hw.tensor_parallel);
    if (!model.ok()) return model.status();
    return std::make_unique<MeasuredPerfModel>(*std::move(model));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown perf model '", spec.type, "'; expected roofline, calibrated, constant or measured"));
}

}  // namespace gpufleet
