// Placement of replicas onto the cluster's GPUs: the cluster's layout, where each replica sits, and the
// entry point that runs the scenario's placement policy (policies/placement).
//
// A replica's tensor-parallel group takes consecutive free GPUs of its type inside one node (TP traffic
// stays on the node's NVLink/NVSwitch fabric) or, when no node can hold it, whole consecutive nodes of
// one node type (TP16 over two 8-GPU nodes): its collectives then cross the scale-out fabric
// (sim/platform/tp_link.h). The scenario loader runs the placement to reject deployments that cannot be
// placed; the engine and `gpufleet topology` run it to bind replicas to hosts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct FabricLayout;

struct ReplicaPlacement {
  int replica = 0;      // global replica index
  int group = 0;        // deployment group index
  int node_index = 0;   // its (first) node
  std::vector<int> gpus;  // global GPU indices (node_index * ... in cluster order), size = TP
  std::vector<int> nodes; // every node it spans, in order (nodes[0] == node_index): one unless TP spans nodes
};

struct ClusterLayout {
  struct NodeInstance {
    const NodeSpec* node = nullptr;
    int first_gpu = 0;  // global index of its GPU 0
  };
  std::vector<NodeInstance> nodes;
  int total_gpus = 0;
};

ClusterLayout LayoutCluster(const std::vector<NodeGroup>& cluster);

// What a placement policy places, and onto what.
struct PlacementInput {
  const ClusterLayout& cluster;
  const FabricLayout& fabric;                // which leaf each node is under
  int64_t rack_servers = 0;                  // power.racks.servers: racks of that many consecutive servers; 0: none
  const std::vector<ReplicaGroup>& deployment;
};

// Runs placement policy `policy` (scenario key `placement`). Replicas are numbered in deployment order,
// group by group, whatever order the policy placed them in. A deployment that cannot be placed is a
// FailedPrecondition naming the group and the constraint, with the group's index in *failed_group when
// that is not null; a policy parameter the cluster contradicts is an InvalidArgument located in the scenario.
absl::StatusOr<std::vector<ReplicaPlacement>> PlaceReplicas(const PlacementInput& input, const PolicyConfig& policy,
                                                            int* failed_group = nullptr);

}  // namespace gpufleet
