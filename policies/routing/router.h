// The router: picks the replica that serves an arriving request.
//
// The engine's router calls Route once per arrival with the fleet's view (fleet_view.h): every
// replica's load in place, and the orderings the router declared in Needs kept current, so that a router
// reading "the least loaded replica" costs O(1) per arrival, not a scan of the fleet; routers that weigh
// replicas by hardware read FleetView::profile (the perf model's figures and the price). A router returns a
// replica index; it may keep state between calls (round robin does) but must be deterministic. A router
// whose parameters name deployment groups (size_buckets) checks them in Bind, which the scenario loader
// and the engine call once, before any Route; randomized routers (power_of_two) seed themselves there. New routers live in one file in this folder and register with GF_REGISTER_POLICY(Router, "name", "description", factory).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "policies/policy_binding.h"
#include "policies/policy_registry.h"
#include "policies/routing/fleet_view.h"
#include "traces/request_stream.h"

namespace gpufleet {

class Router {
 public:
  virtual ~Router() = default;
  // The replica (an index below fleet.size(); the fleet is non-empty) that takes `request`.
  virtual size_t Route(const TraceRequest& request, const FleetView& fleet) = 0;
  // The orderings Route reads; the engine keeps only these up to date. Asked once, before the first
  // Route. An undeclared ordering is still answered, by a scan of every replica.
  virtual RouterNeeds Needs() const { return {}; }
  // Called once after the factory and before the first Route (policy_binding.h). A router whose
  // parameters name groups resolves them against binding.group_names (ReplicaLoad::group indexes them)
  // and returns an error located in the scenario when one is not a group; a randomized router seeds
  // its stream from binding.seed. Default: nothing to bind.
  virtual absl::Status Bind(const PolicyBinding& binding) {
    (void)binding;
    return absl::OkStatus();
  }
};

using RouterRegistry = PolicyRegistry<Router>;

}  // namespace gpufleet
