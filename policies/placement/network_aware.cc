// Network aware: decode replicas under the same leaves as the prefill replicas whose KV caches they
// receive, in proportion, so that KV transfers stay under one leaf instead of crossing the spine.
//
// Groups of other roles ("prefill", "mixed") are placed first, in deployment order, spread round robin
// across leaves (across nodes in a fabric of one leaf), which leaves room beside them under every leaf.
// Then each decode replica goes under the leaf whose decode GPUs are fewest relative to its prefill GPUs
// (counting this replica), first fit inside it; leaves without prefill come last. With no prefill group,
// decode groups are spread like the others.
#include <limits>
#include <tuple>

#include "policies/placement/placement_policy.h"

namespace gpufleet {
namespace {

class NetworkAware final : public PlacementPolicy {
 public:
  std::vector<int> Order(const PlacementInput& input) const override {
    std::vector<int> order;
    for (bool decode : {false, true}) {
      for (size_t g = 0; g < input.deployment.size(); ++g) {
        if ((input.deployment[g].role == "decode") == decode) order.push_back(static_cast<int>(g));
      }
    }
    return order;
  }

  std::optional<Slot> Choose(const PlacementInput& input, const GpuPool& pool, int group) override {
    if (pool.nodes() == 0) return std::nullopt;
    const ReplicaGroup& g = input.deployment[group];
    const FabricLayout& fabric = input.fabric;
    if (prefill_gpus_.empty()) {
      prefill_gpus_.assign(fabric.leaves, 0);
      decode_gpus_.assign(fabric.leaves, 0);
    }
    std::optional<Slot> s;
    if (g.role == "decode" && has_prefill_) {
      s = BestSlot(pool, g, [&](const Slot& slot) {
        const int leaf = fabric.leaf_of_node[slot.node];
        const double share = prefill_gpus_[leaf] > 0
                                 ? (decode_gpus_[leaf] + g.tensor_parallel) / static_cast<double>(prefill_gpus_[leaf])
                                 : std::numeric_limits<double>::infinity();
        return std::make_tuple(prefill_gpus_[leaf] > 0 ? 0 : 1, share, slot.node);
      });
    } else {
      auto domain = [&](int node) { return fabric.leaves > 1 ? fabric.leaf_of_node[node] : node; };
      const int domains = domain(pool.nodes() - 1) + 1;
      s = BestSlot(pool, g, [&](const Slot& slot) {
        return std::make_tuple((domain(slot.node) - next_ % domains + domains) % domains, slot.node);
      });
      if (s) next_ = domain(s->node) + 1;
    }
    if (!s) return s;
    const int leaf = fabric.leaf_of_node[s->node];
    if (g.role == "prefill") {
      prefill_gpus_[leaf] += g.tensor_parallel;
      has_prefill_ = true;
    } else if (g.role == "decode") {
      decode_gpus_[leaf] += g.tensor_parallel;
    }
    return s;
  }

 private:
  std::vector<int> prefill_gpus_, decode_gpus_;  // by leaf
  bool has_prefill_ = false;
  int next_ = 0;  // spreading: the domain the next replica tries first
};

GF_REGISTER_POLICY(PlacementPolicy, "network_aware",
                   "decode replicas under the leaves of the prefill replicas, in proportion; others spread "
                   "across leaves (no parameters)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<PlacementPolicy>> {
                     return std::make_unique<NetworkAware>();
                   });

}  // namespace
}  // namespace gpufleet
