// The scenario's `fabric:` section (docs/scenario.md#fabric): topology, leaf size, oversubscription, a
// latency preset of models/catalog/fabrics.yaml and latency overrides, checked key by key.
#pragma once

#include "absl/status/status.h"
#include "models/catalog.h"
#include "sim/scenario/scenario.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

// Reads top-level key `fabric` of `top` into *out (absent: the defaults, a star). Errors are located.
absl::Status ReadFabricSection(MapReader& top, const Catalog& catalog, FabricSpec* out);

}  // namespace gpufleet
