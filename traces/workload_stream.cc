#include "traces/workload_stream.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "traces/reshape_streams.h"
#include "traces/superpose_stream.h"
#include "traces/synthetic_stream.h"
#include "traces/tag_stream.h"
#include "traces/trace_file.h"

namespace gpufleet {
namespace {

// Consecutive synthetic requests a size filter may drop before the run stops with an error.
constexpr int64_t kMaxFilterDropsInRow = 10'000'000;

absl::Status CheckOptions(const WorkloadSpec& spec, double horizon_s) {
  auto bad = [](absl::string_view what, absl::string_view expected) {
    return absl::InvalidArgumentError(absl::StrCat("workload: ", what, "; expected ", expected));
  };
  if (!(spec.rate_multiplier > 0) || !std::isfinite(spec.rate_multiplier)) {
    return bad(absl::StrCat("rate_multiplier is ", spec.rate_multiplier), "a number > 0");
  }
  if (!(spec.window_start_s >= 0) || !std::isfinite(spec.window_start_s)) {
    return bad(absl::StrCat("window start is ", spec.window_start_s), "a number of seconds >= 0");
  }
  if (!(spec.window_end_s > spec.window_start_s)) {
    return bad(absl::StrCat("window is [", spec.window_start_s, ", ", spec.window_end_s, ")"),
               "end > start");
  }
  for (const auto& [name, r] : {std::pair<const char*, const TokenRange&>{"prompt_tokens", spec.filter_prompt},
                                 std::pair<const char*, const TokenRange&>{"output_tokens", spec.filter_output}}) {
    if (r.lo < 0 || !(r.hi > static_cast<double>(r.lo)) || (std::isfinite(r.hi) && r.hi != std::floor(r.hi))) {
      return bad(absl::StrCat("filter.", name, " is [", r.lo, ", ", r.hi, ")"),
                 "[lo, hi) with integers 0 <= lo < hi, hi may be infinity");
    }
  }
  if (spec.max_requests < 0) return bad(absl::StrCat("max_requests is ", spec.max_requests), "an integer >= 0");
  if (!(horizon_s >= 0)) return bad(absl::StrCat("horizon is ", horizon_s, " s"), "a number of seconds >= 0");
  if (spec.source == WorkloadSpec::Source::kTrace) {
    if (spec.superpose < 1) return bad(absl::StrCat("superpose is ", spec.superpose), "an integer >= 1");
    if (spec.trace_path.empty()) return bad("the trace path is empty", "a trace file");
    if (!(spec.max_gap_s >= 0)) {
      return bad(absl::StrCat("max_gap_s is ", spec.max_gap_s), "seconds > 0, infinity for no limit, or 0 for the default rule");
    }
  } else {
    if (spec.superpose != 1) {
      return bad(absl::StrCat("superpose is ", spec.superpose), "1 for a synthetic workload (it applies to traces)");
    }
    const double skipped = SyntheticRequestsBeforeWindow(spec);
    if (skipped > kMaxSkippedSyntheticRequests) {
      return bad(absl::StrCat("window_s starts at ", spec.window_start_s, " s, so the synthetic source would generate ",
                              "and discard about ", skipped, " requests before it"),
                 absl::StrCat("rate_rps x rate_multiplier x window start <= ", kMaxSkippedSyntheticRequests,
                              " (a synthetic load is stationary: leave window_s out, or start it earlier)"));
    }
    if (std::isinf(horizon_s) && spec.max_requests == std::numeric_limits<int64_t>::max()) {
      return absl::InvalidArgumentError(
          "workload: a synthetic workload needs a horizon or max_requests; expected a finite horizon or a "
          "max_requests limit");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RequestStream>> MakeRequestStream(const WorkloadSpec& spec, uint64_t seed,
                                                                 double horizon_s) {
  if (absl::Status s = CheckOptions(spec, horizon_s); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<RequestStream>> source =
      spec.source == WorkloadSpec::Source::kTrace
          ? MakeSuperposedTrace(spec.trace_path, spec.trace_format, spec.superpose, spec.max_gap_s)
          : MakeSyntheticStream(spec, seed);
  if (!source.ok()) return source.status();
  std::unique_ptr<RequestStream> stream = *std::move(source);
  if (WantsTags(spec)) stream = MakeTaggedStream(std::move(stream), spec, seed);
  if (spec.rate_multiplier != 1.0) stream = MakeRateMultipliedStream(std::move(stream), spec.rate_multiplier);
  if (spec.window_start_s != 0 || std::isfinite(spec.window_end_s)) {
    stream = MakeWindowedStream(std::move(stream), spec.window_start_s, spec.window_end_s);
  }
  if (!spec.filter_prompt.All() || !spec.filter_output.All()) {
    // A synthetic source never ends by itself: a filter that drops all of it must fail, not spin.
    const int64_t max_dropped = spec.source == WorkloadSpec::Source::kSynthetic ? kMaxFilterDropsInRow : 0;
    stream = MakeFilteredStream(std::move(stream), spec.filter_prompt, spec.filter_output, horizon_s, max_dropped);
  }
  if (spec.max_requests != std::numeric_limits<int64_t>::max()) {
    stream = MakeCappedStream(std::move(stream), spec.max_requests);
  }
  if (std::isfinite(horizon_s)) stream = MakeHorizonStream(std::move(stream), horizon_s);
  return MakeIdAssigningStream(std::move(stream));
}

}  // namespace gpufleet
