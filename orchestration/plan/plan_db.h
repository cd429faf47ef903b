// A plan's rows in the run database (docs/sqlite-schema.md: plans, plan_candidates, plan_capacities, plan_fleets), so that
// planners query plans beside the runs that verified them (`plan --db` also records every verification
// simulation as a run).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "orchestration/plan/fleet_planner.h"
#include "orchestration/plan/plan_spec.h"

namespace gpufleet {

// Writes the plan in one transaction (retried while the database is locked, for up to `wait_s`); returns
// its plan_id. `result_json` is the plan's `--json` report, stored whole; `rps_per_multiplier` (the base
// workload's mean request rate at rate multiplier 1) turns capacities into requests per second.
absl::StatusOr<std::string> WritePlanRows(const std::string& db_path, double wait_s, const PlanSpec& spec,
                                          const PlanResult& result, const std::string& result_json, double rps_per_multiplier);

}  // namespace gpufleet
