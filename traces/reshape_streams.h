// Decorators that reshape a RequestStream, applied by MakeRequestStream in this order: rate
// multiplier, window, size filter, request cap, horizon, then id assignment (so the cap counts the
// requests the filter kept). Each keeps arrival times non-decreasing and reads its inner stream
// lazily. Progress() of a decorator is the larger of its inner stream's and its own estimate (window,
// cap or horizon fraction), since whichever limit is reached first ends the stream; the filter has no
// estimate of its own and passes its inner stream's on.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "traces/request_stream.h"
#include "traces/workload_spec.h"

namespace gpufleet {

// arrival_s / multiplier (multiplier > 0; > 1 compresses time).
std::unique_ptr<RequestStream> MakeRateMultipliedStream(std::unique_ptr<RequestStream> inner,
                                                        double multiplier);

// Keeps arrivals in [start_s, end_s) (end_s may be +inf), rebased so that start_s becomes 0. Stops
// reading the inner stream at the first arrival >= end_s.
std::unique_ptr<RequestStream> MakeWindowedStream(std::unique_ptr<RequestStream> inner, double start_s,
                                                  double end_s);

// Keeps only the requests whose prompt_tokens lie in `prompt` and output_tokens in `output` (each
// [lo, hi)); arrival times are unchanged. Also ends at the first inner arrival >= stop_s (the horizon,
// +inf for none), so an unbounded source whose requests it all drops still ends. `max_dropped_in_row`
// > 0 (for unbounded sources): an error after that many consecutive drops, rather than reading forever.
std::unique_ptr<RequestStream> MakeFilteredStream(std::unique_ptr<RequestStream> inner, TokenRange prompt,
                                                  TokenRange output, double stop_s, int64_t max_dropped_in_row);

// At most max_requests (>= 0) requests.
std::unique_ptr<RequestStream> MakeCappedStream(std::unique_ptr<RequestStream> inner, int64_t max_requests);

// Ends at the first arrival >= horizon_s.
std::unique_ptr<RequestStream> MakeHorizonStream(std::unique_ptr<RequestStream> inner, double horizon_s);

// Sets id = 0, 1, 2, ... in output order.
std::unique_ptr<RequestStream> MakeIdAssigningStream(std::unique_ptr<RequestStream> inner);

// The error when a reshaping step (`step`: "rate_multiplier", "window_s", "superpose", ...) turned the
// arrival `before_s` into a time that is not finite. Every step that computes an arrival checks its
// result: SimGrid aborts on a sleep until +inf, and the run must end with exit code 2 instead.
absl::Status NonFiniteArrivalError(absl::string_view step, double before_s, double after_s);

}  // namespace gpufleet
