// First-fit replica placement (see placement.h).
#include "sim/platform/placement.h"

#include "absl/strings/str_format.h"

namespace gpufleet {

ClusterLayout LayoutCluster(const std::vector<NodeGroup>& cluster) {
  ClusterLayout layout;
  for (const NodeGroup& g : cluster) {
    for (int i = 0; i < g.count; ++i) {
      layout.nodes.push_back({g.node, layout.total_gpus});
      layout.total_gpus += g.node->gpus_per_node;
    }
  }
  return layout;
}

absl::StatusOr<std::vector<ReplicaPlacement>> PlaceReplicas(const ClusterLayout& layout,
                                                            const std::vector<ReplicaGroup>& deployment) {
  std::vector<int> used(layout.nodes.size(), 0);
  std::vector<ReplicaPlacement> out;
  int replica = 0;
  for (size_t g = 0; g < deployment.size(); ++g) {
    const ReplicaGroup& group = deployment[g];
    for (int r = 0; r < group.replicas; ++r) {
      bool placed = false;
      for (size_t n = 0; n < layout.nodes.size() && !placed; ++n) {
        const NodeSpec& node = *layout.nodes[n].node;
        if (node.gpu != group.gpu->name || node.gpus_per_node - used[n] < group.tensor_parallel) continue;
        ReplicaPlacement p{replica++, static_cast<int>(g), static_cast<int>(n), {}};
        for (int k = 0; k < group.tensor_parallel; ++k) p.gpus.push_back(layout.nodes[n].first_gpu + used[n] + k);
        used[n] += group.tensor_parallel;
        out.push_back(std::move(p));
        placed = true;
      }
      if (!placed) {
        int total = 0, max_per_node = 0;
        for (const auto& inst : layout.nodes) {
          if (inst.node->gpu != group.gpu->name) continue;
          total += inst.node->gpus_per_node;
          max_per_node = std::max(max_per_node, inst.node->gpus_per_node);
        }
        if (total == 0) {
          return absl::FailedPreconditionError(
              absl::StrFormat("deployment '%s' needs %s GPUs but the cluster has no node with them", group.name,
                              group.gpu->name));
        }
        if (group.tensor_parallel > max_per_node) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "deployment '%s' has tensor_parallel %d but the largest %s node holds %d GPUs (a TP group stays "
              "inside one node)",
              group.name, group.tensor_parallel, group.gpu->name, max_per_node));
        }
        return absl::FailedPreconditionError(absl::StrFormat(
            "deployment '%s' asks for %d replicas x TP%d = %d %s GPUs; the cluster has %d of them and only %d "
            "replica(s) fit after earlier groups",
            group.name, group.replicas, group.tensor_parallel, group.replicas * group.tensor_parallel,
            group.gpu->name, total, r));
      }
    }
  }
  return out;
}

}  // namespace gpufleet
