// The report of `gpufleet plan PLAN.yaml`: the plan's result as one JSON object (`--json`, and the row the
// database stores) or as the table a planner reads.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "orchestration/plan/fleet_planner.h"
#include "orchestration/plan/plan_spec.h"

namespace gpufleet {

nlohmann::ordered_json PlanJson(const PlanSpec& spec, const PlanResult& r);
std::string PlanText(const PlanSpec& spec, const PlanResult& r);

}  // namespace gpufleet
