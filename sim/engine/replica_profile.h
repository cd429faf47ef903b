// The hardware figures policies may read of a replica (policies/routing/fleet_view.h ReplicaProfile),
// fitted once per run from the replica's own perf model and priced from the catalog and the scenario.
#pragma once

#include "models/catalog.h"
#include "models/perf_model.h"
#include "policies/routing/fleet_view.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

// Prefill as fixed + per-token seconds, the line through the perf model's times for one prompt of 512
// tokens and one of a full iteration's budget; decode as the seconds per sequence of a 32-sequence step
// at a 1,024-token context (a typical serving point; the figure is a weight, not a forecast).
ReplicaProfile FitReplicaProfile(const PerfModel& perf, const ReplicaGroup& group, const NodeSpec& node,
                                 const Catalog& catalog, const PriceSpec& prices);

}  // namespace gpufleet
