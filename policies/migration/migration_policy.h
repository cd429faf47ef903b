// Live migration (Llumnix-style): which running requests move between replicas, and when.
//
// The engine asks the policy every interval_s() seconds while requests are in the fleet, with the
// router's view of the replicas that take arrivals (fleet_view.h: loads, free KV, queued prompts,
// hardware profiles). The policy answers with moves (source, destination, view indices); the engine moves
// one running request per move, the source's decode-phase request with the smallest cache (cheapest to
// move), once the source's iteration in progress ends. Its KV cache crosses the fabric as SimGrid comms
// (sim/engine/kv_transport.h); the request generates nothing until it lands (stop-and-copy: Llumnix
// pipelines the copy behind decoding, so this is the conservative end of its downtime), then continues on
// the destination, which must have room for it or queues it. New policies live in one file in this
// folder and register with GF_REGISTER_POLICY(MigrationPolicy, "name", "description", factory). A
// policy with interval_s() == 0 never runs (`none`).
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "policies/policy_binding.h"
#include "policies/policy_registry.h"
#include "policies/routing/fleet_view.h"

namespace gpufleet {

struct MigrationMove {
  size_t from = 0;  // view indices
  size_t to = 0;
};

class MigrationPolicy {
 public:
  virtual ~MigrationPolicy() = default;
  // Seconds between rounds; 0: never.
  virtual double interval_s() const = 0;
  // The moves to start now (each source and destination at most once per round is up to the policy; the
  // engine skips a source that still has a move in progress).
  virtual void Plan(const FleetView& fleet, std::vector<MigrationMove>* moves) = 0;
  // Called once before the first Plan (policy_binding.h).
  virtual absl::Status Bind(const PolicyBinding& binding) {
    (void)binding;
    return absl::OkStatus();
  }
};

using MigrationRegistry = PolicyRegistry<MigrationPolicy>;

}  // namespace gpufleet
