// Leaves, rail groups and uplinks of a cluster's fabric (see fabric_layout.h).
#include "sim/platform/fabric_layout.h"

#include <algorithm>

namespace gpufleet {

FabricLayout LayoutFabric(const ClusterLayout& cluster, const FabricSpec& fabric) {
  FabricLayout f;
  f.topology = fabric.topology;
  const int nodes = static_cast<int>(cluster.nodes.size());
  const int per_leaf = fabric.topology == "star" ? std::max(nodes, 1) : static_cast<int>(fabric.nodes_per_leaf);
  f.leaves = std::max(1, (nodes + per_leaf - 1) / per_leaf);
  f.leaf_of_node.resize(static_cast<size_t>(nodes));
  for (int n = 0; n < nodes; ++n) f.leaf_of_node[n] = n / per_leaf;
  for (int l = 0; l < f.leaves; ++l) f.first_node.push_back(l * per_leaf);
  if (fabric.topology == "star") return f;
  // Rails always have a spine: traffic between different rails, even inside one group, crosses it.
  if (fabric.topology == "rail-optimized") {
    for (const auto& inst : cluster.nodes) f.rails = std::max(f.rails, inst.node->gpus_per_node);
    // A rail switch's uplink carries what its NICs can send: non-blocking, as rail-optimized pods are built.
    f.uplink_gbps.assign(static_cast<size_t>(f.leaves * f.rails), 0);
    for (int n = 0; n < nodes; ++n) {
      const NodeSpec& node = *cluster.nodes[n].node;
      for (int g = 0; g < node.gpus_per_node; ++g) {
        f.uplink_gbps[f.leaf_of_node[n] * f.rails + g] += node.network_gbps / node.gpus_per_node;
      }
    }
    return f;
  }
  if (f.leaves == 1) return f;  // one leaf joins every node: no spine
  // Leaf-spine and fat-tree: a leaf's ports run at the speed of its fastest node, and its uplinks carry
  // 1/oversubscription of what all its ports can send (fat-tree: oversubscription 1, full bisection).
  for (int l = 0; l < f.leaves; ++l) {
    double fastest = 0;
    const int end = std::min(nodes, f.first_node[l] + per_leaf);
    for (int n = f.first_node[l]; n < end; ++n) fastest = std::max(fastest, cluster.nodes[n].node->network_gbps);
    f.uplink_gbps.push_back((end - f.first_node[l]) * fastest / fabric.oversubscription);
  }
  return f;
}

}  // namespace gpufleet
