// Builds the perf model a scenario's `perf_model.type` names.
#include "absl/strings/str_cat.h"
#include "models/constant_perf_model.h"
#include "models/perf_model.h"
#include "models/roofline_perf_model.h"

namespace gpufleet {

absl::StatusOr<std::unique_ptr<PerfModel>> MakePerfModel(const PerfModelSpec& spec, const ReplicaHardware& hw) {
  if (spec.type == "roofline") return std::make_unique<RooflinePerfModel>(spec, hw);
  if (spec.type == "constant") return std::make_unique<ConstantPerfModel>(spec.constant_iteration_s);
  return absl::InvalidArgumentError(absl::StrCat("unknown perf model '", spec.type, "'; expected roofline or constant"));
}

}  // namespace gpufleet
