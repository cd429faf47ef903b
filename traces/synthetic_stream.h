// Synthetic request generator: Poisson or gamma-renewal arrivals at a mean rate, with lengths drawn
// from two LengthSpecs or resampled as joint (prompt, output) pairs from a trace file. The generator
// itself never ends; MakeRequestStream bounds it with a horizon or a request cap.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "traces/request_stream.h"
#include "traces/workload_spec.h"

namespace gpufleet {

// Uses spec.arrival, rate_rps, cv, prompt_len, output_len, resample_path and resample_format.
// Random sub-streams: DeriveSeed(seed, "arrivals"), "prompt_len", "output_len", "resample", so that a
// change to one part does not shift the others. InvalidArgument for an invalid spec; the resample file
// is read here (only its length pairs are kept). Progress() is -1 (the bounding decorators know more).
absl::StatusOr<std::unique_ptr<RequestStream>> MakeSyntheticStream(const WorkloadSpec& spec, uint64_t seed);

}  // namespace gpufleet
