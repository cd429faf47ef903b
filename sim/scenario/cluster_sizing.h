// The cluster of `cluster: auto` (or no cluster at all): the cheapest set of catalog nodes that holds the
// deployment.
//
// GPU types are sized one at a time, in the order the deployment first uses them. For each catalog node
// type with that GPU, the node count is the number first-fit placement (placement.h) needs for the groups
// on that GPU; that count is priced as the report prices it (PriceFleet: the scenario's price overrides,
// else the catalog), and the cheapest node type wins, ties going to fewer nodes, then to the first name in
// catalog order, so the choice is deterministic. One node type per GPU type, so the answer reads as
// "N nodes of type T". Energy is not part of the price compared: it depends on the run.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

// FailedPrecondition naming the first group no catalog node can hold (its GPU is in no node type, or its
// tensor-parallel group is larger than every node of that GPU).
absl::StatusOr<std::vector<NodeGroup>> SizeCluster(const std::vector<ReplicaGroup>& deployment, const Catalog& catalog,
                                                   const PriceSpec& prices);

}  // namespace gpufleet
