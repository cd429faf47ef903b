// `gpufleet policies`: list every registered policy, kind by kind, with the scenario key that selects it.
#include <cstdio>

#include "policies/admission/admission_policy.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/placement/placement_policy.h"
#include "policies/power/power_controller.h"
#include "policies/routing/router.h"
#include "policies/transfer/decode_target.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

template <class Interface>
void PrintKind(const char* title, const char* key) {
  std::printf("%s (scenario key: %s):\n", title, key);
  for (const auto& [name, e] : PolicyRegistry<Interface>::Get().entries()) {
    std::printf("  %-28s %s\n", name.c_str(), e.description.c_str());
  }
}

}  // namespace

std::function<int()> AddPoliciesCommand(CLI::App& app) {
  app.add_subcommand("policies",
                     "List the registered routing, batch-scheduling, power-capping, placement, admission and "
                     "decode-target policies");
  return []() -> int {
    PrintKind<Router>("routers", "router.type");
    PrintKind<BatchScheduler>("batch schedulers", "deployment[].scheduler.type");
    PrintKind<PowerController>("power controllers", "power.controller.type");
    PrintKind<PlacementPolicy>("placement policies", "placement.type");
    PrintKind<AdmissionPolicy>("admission", "admission.type");
    PrintKind<DecodeTarget>("decode targets", "disaggregation.decode_target.type");
    return 0;
  };
}

}  // namespace gpufleet
