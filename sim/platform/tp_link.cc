// A tensor-parallel group's collective link (see tp_link.h).
#include "sim/platform/tp_link.h"

#include <algorithm>
#include <limits>

namespace gpufleet {

TensorParallelLink TensorParallelLinkOf(const ClusterLayout& cluster, const FabricLayout& fabric,
                                        const FabricSpec& spec, const ReplicaPlacement& replica) {
  if (replica.nodes.size() <= 1) return {};
  TensorParallelLink link{std::numeric_limits<double>::infinity(), 0};
  for (int n : replica.nodes) {
    const NodeSpec& node = *cluster.nodes[n].node;
    link.gbps = std::min(link.gbps, node.network_gbps / node.gpus_per_node);
  }
  const int first_leaf = fabric.leaf_of_node[replica.nodes.front()];
  const bool spine = fabric.has_spine() && std::any_of(replica.nodes.begin(), replica.nodes.end(), [&](int n) {
                       return fabric.leaf_of_node[n] != first_leaf;
                     });
  // Through the spine every GPU under a leaf shares its uplink. A rail switch's uplink is as wide as its
  // NICs (fabric_layout.h), so only leaf-spine and fat-tree uplinks can be narrower than the NIC share.
  if (spine && fabric.topology != "rail-optimized") {
    int last_leaf = -1;
    for (int n : replica.nodes) {
      const int leaf = fabric.leaf_of_node[n];
      if (leaf == last_leaf) continue;  // a replica's nodes are consecutive, so are its leaves
      last_leaf = leaf;
      double gpus = 0;
      for (int m = fabric.first_node[leaf]; m < fabric.first_node[leaf] + fabric.nodes_in_leaf(leaf); ++m) {
        gpus += cluster.nodes[m].node->gpus_per_node;
      }
      link.gbps = std::min(link.gbps, fabric.uplink_gbps[leaf] / gpus);
    }
  }
  link.latency_s = 2 * spec.nic_latency_s + (spine ? 3 : 1) * spec.switch_latency_s;
  return link;
}

}  // namespace gpufleet
