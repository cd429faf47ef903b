// `gpufleet policies`: list the registered routers, batch schedulers, power controllers and placements.
#include <cstdio>

#include "policies/admission/admission_policy.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/placement/placement_policy.h"
#include "policies/power/power_controller.h"
#include "policies/routing/router.h"
#include "policies/transfer/decode_target.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddPoliciesCommand(CLI::App& app) {
  app.add_subcommand("policies", "List the registered routing, batch-scheduling, power-capping and decode-target policies");
  return []() -> int {
    std::printf("routers (scenario key: router.type):\n");
    for (const auto& [name, e] : RouterRegistry::Get().entries()) std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    std::printf("batch schedulers (scenario key: deployment[].scheduler.type):\n");
    for (const auto& [name, e] : BatchSchedulerRegistry::Get().entries())
      std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    std::printf("power controllers (scenario key: power.controller.type):\n");
    for (const auto& [name, e] : PowerControllerRegistry::Get().entries())
      std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    std::printf("placement policies (scenario key: placement.type):\n");
    for (const auto& [name, e] : PlacementRegistry::Get().entries())
      std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    std::printf("admission (scenario key: admission.type):\n");
    for (const auto& [name, e] : AdmissionRegistry::Get().entries())
      std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    std::printf("decode targets (scenario key: disaggregation.decode_target.type):\n");
    for (const auto& [name, e] : DecodeTargetRegistry::Get().entries())
      std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
    return 0;
  };
}

}  // namespace gpufleet
