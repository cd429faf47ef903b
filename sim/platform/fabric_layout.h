// Where each node sits in the scale-out fabric: its leaf switch (leaf-spine, fat-tree) or rail group
// (rail-optimized), and the bandwidth of each leaf's or rail switch's uplink to the spine.
//
// The SimGrid zone (fabric_zone.h), the Boost.Graph view (topology.h), the tensor-parallel link figures
// (tp_link.h) and the placement policies (policies/placement) all read this one description, so they
// cannot disagree on which node is under which leaf. Computed from the cluster layout in O(nodes).
#pragma once

#include <string>
#include <vector>

#include "sim/platform/placement.h"

namespace gpufleet {

struct FabricLayout {
  std::string topology = "star";
  // Leaf switches (leaf-spine, fat-tree) or rail groups (rail-optimized): `nodes_per_leaf` consecutive
  // nodes in cluster order each, the last one possibly smaller. A star has one, its core.
  int leaves = 1;
  std::vector<int> leaf_of_node;  // by node index
  std::vector<int> first_node;    // by leaf: its first node (nodes of a leaf are consecutive)
  // rail-optimized: rail switches per group (the group's largest gpus_per_node); rail g of group k is
  // uplink k x rails + g. Otherwise 0.
  int rails = 0;
  // GB/s one direction of each uplink to the spine: by leaf (leaf-spine, fat-tree), by rail switch
  // (rail-optimized); empty for a star and for a leaf-spine or fat-tree of one leaf (no spine).
  std::vector<double> uplink_gbps;

  bool has_spine() const { return !uplink_gbps.empty(); }
  int nodes_in_leaf(int leaf) const {
    const int end = leaf + 1 < leaves ? first_node[leaf + 1] : static_cast<int>(leaf_of_node.size());
    return end - first_node[leaf];
  }
};

// `fabric` must be valid (the scenario loader checks it): nodes_per_leaf >= 1 unless the topology is star.
FabricLayout LayoutFabric(const ClusterLayout& cluster, const FabricSpec& fabric);

}  // namespace gpufleet
