// Placement of replicas onto the cluster's GPUs.
//
// First fit, in deployment order: each replica's tensor-parallel group takes consecutive free GPUs of its
// type inside one node (TP traffic stays on the node's NVLink/NVSwitch fabric). The scenario loader runs
// it to reject deployments that cannot be placed; the platform builder runs it to bind replicas to hosts.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct GpuSlot {
  int node_index = 0;   // cluster node instance, in cluster order (node groups expanded)
  int gpu_in_node = 0;
};

struct ReplicaPlacement {
  int replica = 0;      // global replica index
  int group = 0;        // deployment group index
  int node_index = 0;
  std::vector<int> gpus;  // global GPU indices (node_index * ... in cluster order), size = TP
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

// FailedPrecondition naming the group that cannot be placed and the GPUs available.
absl::StatusOr<std::vector<ReplicaPlacement>> PlaceReplicas(const ClusterLayout& layout,
                                                            const std::vector<ReplicaGroup>& deployment);

}  // namespace gpufleet
