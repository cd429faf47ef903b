// Free GPUs and replica slots during placement (see gpu_pool.h).
#include "policies/placement/gpu_pool.h"

namespace gpufleet {

GpuPool::GpuPool(const ClusterLayout& cluster) : cluster_(cluster), used_(cluster.nodes.size(), 0) {}

std::optional<Slot> GpuPool::InsideAt(int node, const ReplicaGroup& group) const {
  const NodeSpec& spec = *cluster_.nodes[node].node;
  if (spec.gpu != group.gpu->name || free_gpus(node) < group.tensor_parallel) return std::nullopt;
  return Slot{node, 1};
}

std::optional<Slot> GpuPool::SpanningAt(int node, const ReplicaGroup& group) const {
  const NodeSpec& spec = *cluster_.nodes[node].node;
  const int per_node = spec.gpus_per_node;
  if (spec.gpu != group.gpu->name || group.tensor_parallel <= per_node || group.tensor_parallel % per_node != 0) {
    return std::nullopt;
  }
  const int span = group.tensor_parallel / per_node;
  if (node + span > nodes()) return std::nullopt;
  for (int n = node; n < node + span; ++n) {
    if (cluster_.nodes[n].node != &spec || used_[n] > 0) return std::nullopt;
  }
  return Slot{node, span};
}

ReplicaPlacement GpuPool::Take(const Slot& slot, int group_index, const ReplicaGroup& group) {
  ReplicaPlacement p;
  p.group = group_index;
  p.node_index = slot.node;
  int left = group.tensor_parallel;
  for (int n = slot.node; n < slot.node + slot.span; ++n) {
    const int take = slot.span == 1 ? left : cluster_.nodes[n].node->gpus_per_node;
    for (int k = 0; k < take; ++k) p.gpus.push_back(cluster_.nodes[n].first_gpu + used_[n] + k);
    used_[n] += take;
    left -= take;
    p.nodes.push_back(n);
  }
  return p;
}

}  // namespace gpufleet
