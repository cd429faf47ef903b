// Reads the input file of Mélange's solver (github.com/tyler-griggs/melange-release, melange/config/*.json)
// into a CapacityTable, so that `gpufleet plan --melange-json` answers the same program from the same
// tables:
//   {"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], [5, 2]]}, ...},   $/h per GPU; req/s per bucket
//    "workload_distribution": [[0.2, 0.1], [0.5, 0.2]],   share of requests per [prompt][output] bucket
//    "total_request_rate": 30,                            req/s
//    "slice_factor": 1}
// Also accepted: `max_count` in a GPU's entry (the most GPUs of that type available, as AIBrix's copy of
// the solver reads it). A tput of 0 means the GPU cannot serve that bucket (e.g. the prompt does not fit).
// Errors name the file and the JSON path: "melange.json: gpu_info.A10G.tputs[1][0]: expected a number
// >= 0, got "x"".
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "orchestration/plan/capacity_table.h"

namespace gpufleet {

// The shares may miss 1 by this much (rounding in the analysis that produced them); they are used as given.
inline constexpr double kMelangeShareTolerance = 0.01;

// Buckets are flattened row-major ([prompt][output]) and named "[i][j]"; options keep the file's order;
// each GPU is one unit (gpus_per_replica 1, plain per-GPU pricing).
absl::StatusOr<CapacityTable> LoadMelangeJson(const std::string& path);
// For tests: `text` stands for a file named `name`.
absl::StatusOr<CapacityTable> ParseMelangeJson(const std::string& text, const std::string& name);

}  // namespace gpufleet
