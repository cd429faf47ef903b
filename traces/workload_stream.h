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
// A synthetic source starts at 0, so a window that starts late makes it generate and discard every request
// before the window. More than this many is refused as an input error (the loader at window_s, and
// MakeRequestStream) rather than minutes of silent work; a synthetic load is stationary anyway.
inline constexpr double kMaxSkippedSyntheticRequests = 1e6;
inline double SyntheticRequestsBeforeWindow(const WorkloadSpec& spec) {
  return spec.source == WorkloadSpec::Source::kSynthetic ? spec.rate_rps * spec.rate_multiplier * spec.window_start_s : 0;
}

absl::StatusOr<std::unique_ptr<RequestStream>> MakeRequestStream(const WorkloadSpec& spec, uint64_t seed,
                                                                 double horizon_s);

}  // namespace gpufleet
