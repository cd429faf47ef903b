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
  // Where the simulations run: "local" (`jobs` children) or "slurm" (a job array per batch: slurm_jobs.h).
  std::string backend = "local";
  std::string sbatch, scancel;  // with slurm: found on PATH by the caller (scancel may be empty)
  std::string partition;        // with slurm: empty for the cluster's default
  int max_concurrent = 0;       // with slurm: array tasks at once, 0 for Slurm's limit
  std::string slurm_dir;        // with slurm: the batch folders (default: NAME.plan-slurm, NAME the plan's)
};

int RunPlanSpec(const PlanSpecFlags& f);

}  // namespace gpufleet
