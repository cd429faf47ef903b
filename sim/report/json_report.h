// The run summary as one JSON object (`gpufleet simulate --json`).
//
// Keys are stable and documented in docs/report.md; the object holds no wall-clock figure, so the same
// scenario and seed print byte-identical JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"

namespace gpufleet {

nlohmann::ordered_json SummaryJson(const RunSummary& summary, const RunResult& run);

}  // namespace gpufleet
