// Synthetic microbenchmark rows computed from the project's own roofline estimate (plan_estimate.h), for
// tests and for trying `gpufleet calibrate` without a GPU. They are never measurements: the GPU name,
// driver and CUDA fields say "synthetic", and WriteSyntheticCsv insists on "synthetic" in the file name
// and writes a "# synthetic" comment, as docs/microbench-csv.md requires.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/catalog.h"
#include "tools/microbench/microbench_csv.h"
#include "tools/microbench/plan.h"

namespace gpufleet::microbench {

// One row per plan point: median = the roofline time of one call, p10/p90 = -3%/+5%, 20 samples,
// power limit = the GPU's TDP, no power or clock readings.
std::vector<MicrobenchRow> SyntheticRows(const Plan& plan, const GpuSpec& gpu);

// The comment lines a synthetic file starts with.
std::vector<std::string> SyntheticComments(const GpuSpec& gpu);

// Writes SyntheticRows to `path`; fails unless the file name contains "synthetic".
absl::Status WriteSyntheticCsv(const std::string& path, const Plan& plan, const GpuSpec& gpu);

}  // namespace gpufleet::microbench
