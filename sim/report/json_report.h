// The run summary as one JSON object (`gpufleet simulate --json`).
//
// Keys are stable and documented in docs/report.md; the object holds no wall-clock figure, so the same
// scenario and seed print byte-identical JSON. An undefined figure is left out, never written as null or 0;
// a number that is not finite (JSON would print null) is an internal error, not output.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"

namespace gpufleet {

absl::StatusOr<nlohmann::ordered_json> SummaryJson(const RunSummary& summary, const RunResult& run);

}  // namespace gpufleet
