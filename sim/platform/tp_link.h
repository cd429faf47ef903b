// The link a tensor-parallel group's collectives run over, from its placement: inside one node the
// node's own fabric; across nodes the slowest per-GPU share of the scale-out fabric it spans.
//
// Across nodes, NCCL runs one ring per NIC (rail), so each GPU's share of its node's scale-out bandwidth,
// network_gbps / gpus_per_node, bounds the collective's bus bandwidth; through the spine of an
// oversubscribed leaf-spine, the share of the leaf's uplink each GPU under the leaf gets bounds it lower.
// The latency is what one step's message adds crossing nodes: two NICs and the switches on the route.
// Analytic, O(nodes spanned): the engine asks it for every replica.
#pragma once

#include "sim/platform/fabric_layout.h"
#include "sim/platform/placement.h"

namespace gpufleet {

struct TensorParallelLink {
  double gbps = 0;       // per GPU, one direction; 0: inside one node (the node's intra-node fabric)
  double latency_s = 0;  // added to each collective step; 0 inside one node
};

TensorParallelLink TensorParallelLinkOf(const ClusterLayout& cluster, const FabricLayout& fabric,
                                        const FabricSpec& spec, const ReplicaPlacement& replica);

}  // namespace gpufleet
