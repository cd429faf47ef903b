// A power controller: at each reading of the cluster's power it sets the replicas' GPU power limits.
//
// The engine's power monitor (sim/engine/power_monitor.h) reads the cluster's IT power every
// power.telemetry_interval_s and hands the reading, with each replica's state, to the scenario's controller
// (`power.controller: {type: NAME, ...}`). The controller answers with a power limit per replica (watts per
// GPU; 0 lifts its own limit), which reaches the GPUs power.actuation_delay_s later and applies from each
// replica's next iteration on: a cap is a lower clock, priced by the perf model's compute/memory split
// (models/power_model.h); an iteration in flight keeps its clock. A limit never goes below the GPU's
// lowest settable limit nor above the group's own `power_limit_w`. New controllers live in one file in this
// folder and register with GF_REGISTER_POLICY(PowerController, "name", "description", factory).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "policies/policy_binding.h"
#include "policies/policy_registry.h"

namespace gpufleet {

// What a controller knows about one replica at a reading.
struct ReplicaPowerState {
  int replica = 0;
  int group = 0;
  int gpus = 1;
  double tdp_w = 0;          // per GPU: the default limit
  double min_limit_w = 0;    // per GPU: the lowest settable limit
  double limit_w = 0;        // per GPU: the controller's limit in force or on its way; 0: none
  double power_w = 0;        // per GPU: mean power over the interval just read
  int64_t waiting = 0;       // requests queued (new or preempted)
  int64_t running = 0;       // sequences holding KV blocks
};

struct PowerReading {
  double t_s = 0;            // the end of the interval read
  double interval_s = 0;
  double it_w = 0;           // the cluster's IT power over it (servers: GPUs and the rest)
  double budget_w = 0;       // power.budget_w; 0: none
  double actuation_delay_s = 0;
  std::span<const ReplicaPowerState> replicas;
};

class PowerController {
 public:
  virtual ~PowerController() = default;
  // `limits_w` holds one limit per replica, preset to those in force; the controller changes what it wants.
  virtual void Control(const PowerReading& reading, std::vector<double>* limits_w) = 0;
  // Called once before the first Control (policy_binding.h). A controller whose parameters name groups
  // resolves them against binding.group_names (ReplicaPowerState::group indexes them), with a located error.
  virtual absl::Status Bind(const PolicyBinding& binding) {
    (void)binding;
    return absl::OkStatus();
  }
  // True when the controller needs power.budget_w (its thresholds are shares of it).
  virtual bool needs_budget() const { return false; }
};

using PowerControllerRegistry = PolicyRegistry<PowerController>;

}  // namespace gpufleet
