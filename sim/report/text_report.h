// The human-readable summary table `gpufleet simulate` prints by default.
#pragma once

#include <string>

#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"

namespace gpufleet {

std::string SummaryTable(const RunSummary& summary, const RunResult& run);

}  // namespace gpufleet
