// Admission control: whether an arriving request enters the fleet at all (scenario key `admission`).
//
// The engine's router asks the policy once per arrival, after the overlength rule and before routing, with
// the date and the router's view of the fleet. A rejected request is counted under the reason the policy
// gives (RunResult::rejected_by_reason) and misses every SLO, like an overlength one. Policies are
// deterministic and may keep state between calls (a token bucket's level). New policies live in one file
// in this folder and register with GF_REGISTER_POLICY(AdmissionPolicy, "name", "description", factory).
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "policies/policy_binding.h"
#include "policies/policy_registry.h"
#include "policies/routing/fleet_view.h"
#include "traces/request_stream.h"

namespace gpufleet {

class AdmissionPolicy {
 public:
  virtual ~AdmissionPolicy() = default;
  // Why `request`, arriving at `now_s`, is turned away; nullopt admits it. Called at non-decreasing dates.
  virtual std::optional<std::string> Reject(const TraceRequest& request, double now_s, const FleetView& fleet) = 0;
  // Called once before the first Reject (policy_binding.h); e.g. SLO-based shedding reads the targets.
  virtual absl::Status Bind(const PolicyBinding& binding) {
    (void)binding;
    return absl::OkStatus();
  }
};

using AdmissionRegistry = PolicyRegistry<AdmissionPolicy>;

}  // namespace gpufleet
