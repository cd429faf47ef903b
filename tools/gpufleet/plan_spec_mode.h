// `gpufleet plan PLAN.yaml`: the planner over a plan file (orchestration/plan/fleet_planner.h), its
// report (table or JSON) and the verified fleet written as a scenario.
#pragma once

#include <string>

namespace gpufleet {

struct PlanSpecFlags {
  std::string spec, out, catalog, db, cache;
  double db_wait_s = 120;
  int jobs = 1;
  bool json = false;
};

int RunPlanSpec(const PlanSpecFlags& f);

}  // namespace gpufleet
