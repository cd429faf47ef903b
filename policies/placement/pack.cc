// Pack: as few leaves and nodes as possible. A replica goes under a leaf that already holds replicas when
// one has room, onto a node already in use when one has room there (the one with the fewest free GPUs
// that fit: best fit), and opens a new leaf only when it must, the one with the most free GPUs of its type
// (so the group needs the fewest leaves). Keeps traffic inside leaves and leaves whole leaves free.
#include <tuple>

#include "policies/placement/placement_policy.h"

namespace gpufleet {
namespace {

class Pack final : public PlacementPolicy {
 public:
  std::optional<Slot> Choose(const PlacementInput& input, const GpuPool& pool, int group) override {
    const ReplicaGroup& g = input.deployment[group];
    const FabricLayout& fabric = input.fabric;
    std::vector<int> leaf_used(fabric.leaves, 0), leaf_free(fabric.leaves, 0);
    for (int n = 0; n < pool.nodes(); ++n) {
      const int leaf = fabric.leaf_of_node[n];
      leaf_used[leaf] += pool.used(n) ? 1 : 0;
      if (pool.cluster().nodes[n].node->gpu == g.gpu->name) leaf_free[leaf] += pool.free_gpus(n);
    }
    return BestSlot(pool, g, [&](const Slot& s) {
      const int leaf = fabric.leaf_of_node[s.node];
      const bool open = leaf_used[leaf] > 0;
      const bool one_leaf = fabric.leaf_of_node[s.node + s.span - 1] == leaf;
      return std::make_tuple(open ? 0 : 1, open ? 0 : -leaf_free[leaf], one_leaf ? 0 : 1, pool.used(s.node) ? 0 : 1,
                             pool.free_gpus(s.node), s.node);
    });
  }
};

GF_REGISTER_POLICY(PlacementPolicy, "pack",
                   "fill a node, then nodes under the same leaf: the fewest leaves (no parameters)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<PlacementPolicy>> {
                     return std::make_unique<Pack>();
                   });

}  // namespace
}  // namespace gpufleet
