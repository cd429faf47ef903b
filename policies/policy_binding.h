// What every policy may know of the run when it is bound, once, before its first decision.
//
// The same struct for every kind (routers, admission, power controllers, decode targets), so a new policy
// never needs an engine change to learn these: the deployment's group names (to resolve the groups its
// parameters name, with located errors), the scenario's seed (a randomized policy draws from its own
// stream of it, DeriveSeed(seed, "router"), so its choices do not shift the workload's), and the SLO
// targets it may steer by (0 when the scenario sets none). The scenario loader binds once to check names
// (seed and targets as loaded); the engine binds again for the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpufleet {

struct PolicyBinding {
  std::vector<std::string> group_names;
  uint64_t seed = 0;
  double ttft_slo_s = 0;  // the scenario's TTFT target, 0 when none
  double tbt_slo_s = 0;
};

}  // namespace gpufleet
