// First fit (the default): groups in deployment order, each replica on the first node, in cluster order,
// with enough free GPUs of its type; when none can hold it, on the first run of whole free nodes.
#include "policies/placement/placement_policy.h"

namespace gpufleet {
namespace {

class FirstFit final : public PlacementPolicy {
 public:
  // Nodes only fill up, so a node that could not take a replica of this group cannot take its next one
  // either: each scan resumes where the last one stopped, O(nodes + replicas) per group.
  std::optional<Slot> Choose(const PlacementInput& input, const GpuPool& pool, int group) override {
    if (group != group_) {
      group_ = group;
      inside_ = spanning_ = 0;
    }
    const ReplicaGroup& g = input.deployment[group];
    for (; inside_ < pool.nodes(); ++inside_) {
      if (std::optional<Slot> s = pool.InsideAt(inside_, g)) return s;
    }
    for (; spanning_ < pool.nodes(); ++spanning_) {
      if (std::optional<Slot> s = pool.SpanningAt(spanning_, g)) return s;
    }
    return std::nullopt;
  }

 private:
  int group_ = -1;
  int inside_ = 0, spanning_ = 0;  // the next node to try, inside one node and spanning nodes
};

GF_REGISTER_POLICY(PlacementPolicy, "first_fit",
                   "each replica on the first node (cluster order) with room; the default, no parameters",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<PlacementPolicy>> {
                     return std::make_unique<FirstFit>();
                   });

}  // namespace
}  // namespace gpufleet
