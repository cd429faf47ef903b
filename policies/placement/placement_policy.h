// A placement policy: which GPUs each replica of the deployment takes (scenario key `placement`).
//
// The driver (sim/platform/placement.cc, PlaceReplicas) asks the policy for the next replica's place,
// group by group in the order the policy gives, and takes every slot the policy returns from the pool of
// free GPUs (gpu_pool.h), so a policy may keep state about what it chose. A policy sees the cluster's
// layout, the fabric (which leaf each node is under), the power racks and the deployment (groups' GPU,
// tensor parallelism and role). Policies are deterministic: ties go to the lowest node. New policies live
// in one file in this folder and register with GF_REGISTER_POLICY(PlacementPolicy, "name", "description",
// factory).
#pragma once

#include <optional>
#include <vector>

#include "policies/placement/gpu_pool.h"
#include "policies/policy_registry.h"
#include "sim/platform/fabric_layout.h"
#include "sim/platform/placement.h"

namespace gpufleet {

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  // Refuses, before anything is placed, a parameter the cluster contradicts (located in the scenario).
  virtual absl::Status Check(const PlacementInput& input) const {
    (void)input;
    return absl::OkStatus();
  }
  // The groups in the order they are placed; the deployment's by default.
  virtual std::vector<int> Order(const PlacementInput& input) const;
  // Where the next replica of group `group` goes, among the pool's free slots (none: it cannot be placed).
  virtual std::optional<Slot> Choose(const PlacementInput& input, const GpuPool& pool, int group) = 0;
};

using PlacementRegistry = PolicyRegistry<PlacementPolicy>;

}  // namespace gpufleet
