// Builds the RequestStream a WorkloadSpec describes: reader or generator, then the decorators
// (superpose, rate multiplier, window, cap, horizon) in a fixed order.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "traces/request_stream.h"
#include "traces/workload_spec.h"

namespace gpufleet {

// `seed` seeds every random stream of the workload (derived per component so that a change to the
// length distribution does not shift arrival times). Arrivals at or after `horizon_s` (seconds after
// the start, after all reshaping) end the stream. Trace files are opened and their header checked here,
// so a missing or wrongly-formatted file fails before the simulation starts.
absl::StatusOr<std::unique_ptr<RequestStream>> MakeRequestStream(const WorkloadSpec& spec, uint64_t seed,
                                                                 double horizon_s);

}  // namespace gpufleet
