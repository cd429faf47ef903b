// Human-readable views of a plan for --dry-run: a summary (points and estimated time per op, the sweep,
// the notes) and, with --list, one line per point.
#pragma once

#include <string>

#include "models/catalog.h"
#include "tools/microbench/method.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/plan_estimate.h"

namespace gpufleet::microbench {

// "45 s", "4 min 50 s", "2 h 05 min".
std::string FormatDuration(double seconds);

std::string FormatPlanSummary(const Plan& plan, const PlanOptions& options, const PlanEstimate& estimate,
                              const GpuSpec& gpu);

std::string FormatPlanList(const Plan& plan, const GpuSpec& gpu, const MethodOptions& method);

}  // namespace gpufleet::microbench
