// Spread: replicas dealt round robin across failure and power domains, so that losing a leaf switch or a
// rack's breaker takes out as few replicas of a group as possible and the racks' power stays even.
//
//   placement: {type: spread, over: racks}   # racks | leaves | nodes; default: racks when power.racks is
//                                            # set, else leaves when the fabric has several, else nodes
//
// Each replica goes to the next domain after the previous replica's (one cursor for the whole deployment,
// so consecutive groups also start on different domains) that has room, first fit inside the domain.
#include <tuple>

#include "absl/strings/str_cat.h"
#include "policies/placement/placement_policy.h"

namespace gpufleet {
namespace {

class Spread final : public PlacementPolicy {
 public:
  Spread(std::string over, std::string file, YAML::Mark mark) : over_(std::move(over)), file_(std::move(file)), mark_(mark) {}

  absl::Status Check(const PlacementInput& input) const override {
    if (over_ == "racks" && input.rack_servers == 0) {
      return YamlError(file_, mark_, "placement.over is 'racks' but the scenario has no power racks",
                       "power.racks: {servers: N} in the scenario, or over: leaves | nodes");
    }
    if (over_ == "leaves" && input.fabric.leaves < 2) {
      return YamlError(file_, mark_, "placement.over is 'leaves' but the fabric has a single leaf",
                       "fabric: {topology: leaf-spine | fat-tree | rail-optimized, nodes_per_leaf: N} with more "
                       "nodes than N, or over: racks | nodes");
    }
    return absl::OkStatus();
  }

  std::optional<Slot> Choose(const PlacementInput& input, const GpuPool& pool, int group) override {
    if (pool.nodes() == 0) return std::nullopt;
    const std::string over = over_ != "auto" ? over_
                             : input.rack_servers > 0 ? "racks"
                             : input.fabric.leaves > 1 ? "leaves"
                                                       : "nodes";
    auto domain = [&](int node) {
      if (over == "racks") return node / static_cast<int>(input.rack_servers);
      return over == "leaves" ? input.fabric.leaf_of_node[node] : node;
    };
    const int domains = domain(pool.nodes() - 1) + 1;
    std::optional<Slot> s = BestSlot(pool, input.deployment[group], [&](const Slot& slot) {
      return std::make_tuple((domain(slot.node) - next_ % domains + domains) % domains, slot.node);
    });
    if (s) next_ = domain(s->node) + 1;
    return s;
  }

 private:
  std::string over_;
  std::string file_;
  YAML::Mark mark_;
  int next_ = 0;  // the domain the next replica tries first
};

absl::StatusOr<std::unique_ptr<PlacementPolicy>> MakeSpread(MapReader& m) {
  std::string over = "auto";
  const YAML::Mark mark = m.Has("over") ? m.node()["over"].Mark() : m.node().Mark();
  if (auto s = m.OptEnum("over", {"auto", "racks", "leaves", "nodes"}, &over); !s.ok()) return s;
  return std::make_unique<Spread>(over, m.file(), mark);
}

GF_REGISTER_POLICY(PlacementPolicy, "spread",
                   "replicas round robin across racks, leaves or nodes (param: over, default racks if power.racks "
                   "is set, else leaves, else nodes)",
                   MakeSpread);

}  // namespace
}  // namespace gpufleet
