// The scenario's `workload:` section (docs/scenario.md#workload): a trace file or a synthetic generator,
// the options that reshape it (rate multiplier, window, size filter, request cap, overlength rule) and the
// tags drawn per request (priority classes, shared prefixes), checked key by key into a WorkloadSpec.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "sim/scenario/scenario.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

// Reads top-level key `workload` of `top` (in scenario file `file`, whose relative paths resolve against
// `base_dir`) into s->workload and s->overlength; s->horizon_s must be read already (a synthetic workload
// needs it or a request cap). Errors are located.
absl::Status ReadWorkloadSection(MapReader& top, const std::string& file, const std::string& base_dir, Scenario* s);

}  // namespace gpufleet
