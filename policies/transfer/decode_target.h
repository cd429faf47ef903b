// The decode-target policy of disaggregated serving: which decode replica receives a request whose prompt
// a prefill replica has just processed (docs/disaggregation.md).
//
// Called once per hand-off with the decode replicas' view (the same FleetView routers read, over the decode
// replicas only: indices are decode-local) and, when the policy asks for it, the network distance from
// the prefill replica to each decode replica (links on the route between their first GPUs). The chosen
// replica receives the request's KV cache over the fabric and decodes it once the cache lands. New
// policies live in one file in this folder and register with GF_REGISTER_POLICY(DecodeTarget, ...).
#pragma once

#include <cstdint>
#include <span>

#include "policies/policy_binding.h"
#include "policies/policy_registry.h"
#include "policies/routing/fleet_view.h"

namespace gpufleet {

// What a decode-target policy knows of the request being handed off.
struct Handoff {
  uint64_t request_id = 0;
  uint32_t prompt_tokens = 0;
  uint32_t output_tokens = 0;   // of the whole request; the first was produced by the prefill replica
  int prefill_replica = 0;      // global replica index
  double kv_bytes = 0;          // the KV cache that moves
};

class DecodeTarget {
 public:
  virtual ~DecodeTarget() = default;
  // The decode replica (an index below decodes.size(); non-empty) that takes the request. `hops[i]` is the
  // number of links between the prefill replica and decode replica i, empty unless needs_distance().
  virtual size_t Choose(const Handoff& handoff, const FleetView& decodes, std::span<const int> hops) = 0;
  // The orderings Choose reads (fleet_view.h); the engine keeps only these up to date.
  virtual RouterNeeds Needs() const { return {}; }
  virtual bool needs_distance() const { return false; }
  // Called once before the first Choose (policy_binding.h). Default: nothing to bind.
  virtual absl::Status Bind(const PolicyBinding& binding) {
    (void)binding;
    return absl::OkStatus();
  }
};

using DecodeTargetRegistry = PolicyRegistry<DecodeTarget>;

}  // namespace gpufleet
