// The free GPUs of a cluster while replicas are being placed, and the slots a replica may take.
//
// A replica takes `tensor_parallel` consecutive free GPUs inside one node (each node is filled from its
// GPU 0 up), or, when its TP exceeds a node's GPUs, TP / gpus_per_node whole free consecutive nodes of one
// node type. BestSlot is the scan every policy but first fit uses: the inside slot of least key, else the
// spanning slot of least key, so a replica spans nodes only when no node can hold it.
#pragma once

#include <optional>
#include <vector>

#include "sim/platform/placement.h"

namespace gpufleet {

// A place for one replica: inside node `node` (span 1), or across `span` whole nodes from `node` on.
struct Slot {
  int node = -1;
  int span = 1;
};

class GpuPool {
 public:
  explicit GpuPool(const ClusterLayout& cluster);

  int nodes() const { return static_cast<int>(used_.size()); }
  int free_gpus(int node) const { return cluster_.nodes[node].node->gpus_per_node - used_[node]; }
  bool used(int node) const { return used_[node] > 0; }
  const ClusterLayout& cluster() const { return cluster_; }

  std::optional<Slot> InsideAt(int node, const ReplicaGroup& group) const;
  std::optional<Slot> SpanningAt(int node, const ReplicaGroup& group) const;
  ReplicaPlacement Take(const Slot& slot, int group_index, const ReplicaGroup& group);

 private:
  const ClusterLayout& cluster_;
  std::vector<int> used_;  // GPUs taken, by node
};

// The inside slot whose key(slot) is least, else the spanning slot whose key is least; ties to the lowest node.
template <class KeyFn>
std::optional<Slot> BestSlot(const GpuPool& pool, const ReplicaGroup& group, KeyFn key) {
  for (bool spanning : {false, true}) {
    std::optional<Slot> best;
    decltype(key(Slot{})) best_key{};
    for (int n = 0; n < pool.nodes(); ++n) {
      const std::optional<Slot> s = spanning ? pool.SpanningAt(n, group) : pool.InsideAt(n, group);
      if (!s) continue;
      auto k = key(*s);
      if (!best || k < best_key) {
        best = s;
        best_key = std::move(k);
      }
    }
    if (best) return best;
  }
  return std::nullopt;
}

}  // namespace gpufleet
