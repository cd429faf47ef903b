// The cluster's layout and the placement driver (see placement.h).
#include "sim/platform/placement.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "policies/placement/placement_policy.h"

namespace gpufleet {
namespace {

// Why replica `placed` of `group` found no slot: the GPU type is absent, its TP fits no node nor a run
// of whole nodes, or the GPUs ran out.
absl::Status Unplaceable(const ClusterLayout& cluster, const ReplicaGroup& group, int placed, const std::string& policy) {
  const std::string by = policy == "first_fit" ? "" : absl::StrFormat(" (placement: %s)", policy);
  int total = 0, max_per_node = 0;
  bool spans = false;  // some node type of this GPU could hold the TP group over whole nodes
  std::vector<int> run_by_node;  // consecutive nodes of one type, ending at each node
  for (size_t n = 0; n < cluster.nodes.size(); ++n) {
    const NodeSpec& node = *cluster.nodes[n].node;
    const bool same = n > 0 && cluster.nodes[n - 1].node == &node;
    run_by_node.push_back(same ? run_by_node.back() + 1 : 1);
    if (node.gpu != group.gpu->name) continue;
    total += node.gpus_per_node;
    max_per_node = std::max(max_per_node, node.gpus_per_node);
    if (group.tensor_parallel % node.gpus_per_node == 0 &&
        run_by_node.back() * node.gpus_per_node >= group.tensor_parallel) {
      spans = true;
    }
  }
  if (total == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "deployment '%s' needs %s GPUs but the cluster has no node with them", group.name, group.gpu->name));
  }
  if (group.tensor_parallel > max_per_node && !spans) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "deployment '%s' has tensor_parallel %d but the largest %s node holds %d GPUs, and no run of consecutive "
        "nodes of one type holds it whole (a TP group stays inside one node, or spans whole consecutive nodes "
        "of one type when it is a multiple of their GPUs)",
        group.name, group.tensor_parallel, group.gpu->name, max_per_node));
  }
  return absl::FailedPreconditionError(absl::StrFormat(
      "deployment '%s' asks for %d replicas x TP%d = %d %s GPUs; the cluster has %d of them and only %d "
      "replica(s) fit after earlier groups%s",
      group.name, group.replicas, group.tensor_parallel, group.replicas * group.tensor_parallel, group.gpu->name,
      total, placed, by));
}

}  // namespace

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

std::vector<int> PlacementPolicy::Order(const PlacementInput& input) const {
  std::vector<int> order(input.deployment.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = static_cast<int>(g);
  return order;
}

absl::StatusOr<std::vector<ReplicaPlacement>> PlaceReplicas(const PlacementInput& input, const PolicyConfig& policy,
                                                            int* failed_group) {
  absl::StatusOr<std::unique_ptr<PlacementPolicy>> chooser = PlacementRegistry::Get().Create(policy);
  if (!chooser.ok()) return chooser.status();
  if (absl::Status st = (*chooser)->Check(input); !st.ok()) return st;
  GpuPool pool(input.cluster);
  std::vector<std::vector<ReplicaPlacement>> by_group(input.deployment.size());
  for (int g : (*chooser)->Order(input)) {
    const ReplicaGroup& group = input.deployment[g];
    for (int r = 0; r < group.replicas; ++r) {
      const std::optional<Slot> slot = (*chooser)->Choose(input, pool, g);
      if (!slot) {
        if (failed_group != nullptr) *failed_group = g;
        return Unplaceable(input.cluster, group, r, policy.type);
      }
      by_group[g].push_back(pool.Take(*slot, g, group));
    }
  }
  std::vector<ReplicaPlacement> out;
  for (std::vector<ReplicaPlacement>& group : by_group) {
    for (ReplicaPlacement& p : group) {
      p.replica = static_cast<int>(out.size());
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace gpufleet
