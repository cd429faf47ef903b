// What the scenario's `workload:` section asks for: a trace file or a synthetic generator, plus the
// options that reshape it. Filled by the scenario loader, turned into a RequestStream by
// MakeRequestStream (traces/workload_stream.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace gpufleet {

// A token-length distribution for synthetic workloads.
struct LengthSpec {
  enum class Kind { kFixed, kUniform, kLognormal };
  Kind kind = Kind::kFixed;
  int64_t value = 128;           // kFixed
  int64_t min = 1, max = 1;      // kUniform, inclusive; also clamps kLognormal
  double median = 128;           // kLognormal: exp(mu)
  double sigma = 0.5;            // kLognormal: sigma of log(length)
};

// A half-open range of token counts, [lo, hi); hi = +inf for no upper bound.
struct TokenRange {
  int64_t lo = 0;
  double hi = std::numeric_limits<double>::infinity();
  bool Contains(int64_t n) const { return n >= lo && static_cast<double>(n) < hi; }
  bool All() const { return lo <= 0 && std::isinf(hi) && hi > 0; }
};

struct WorkloadSpec {
  enum class Source { kTrace, kSynthetic };
  Source source = Source::kSynthetic;

  // kTrace
  std::string trace_path;        // resolved (absolute or relative to the working directory)
  std::string trace_format;      // "azure" | "native"
  int superpose = 1;             // copies of the trace merged, each cyclically shifted by span*k/copies
  // Longest gap between consecutive rows: 0 = the default rule, max(1 h, 1000 x median gap so far);
  // +inf = unchecked; else this many seconds (traces/arrival_gaps.h).
  double max_gap_s = 0;

  // kSynthetic
  std::string arrival = "poisson";  // "poisson" | "gamma"
  double rate_rps = 1.0;         // mean arrival rate, requests/s
  double cv = 1.0;               // gamma: coefficient of variation of inter-arrival times
  // Lengths: either two independent distributions, or joint (prompt, output) pairs resampled from a trace.
  LengthSpec prompt_len;
  LengthSpec output_len;
  std::string resample_path;     // non-empty: resample (prompt, output) pairs from this trace
  std::string resample_format;   // "azure" | "native"

  // Options for both sources, applied in this order: superpose, rate multiplier, window, size filter,
  // cap (then the scenario's horizon). So the window selects by arrival time first, the filter then
  // drops requests by size (arrival times unchanged, no re-spacing), and max_requests counts the
  // requests the filter kept.
  double rate_multiplier = 1.0;  // > 1 compresses time (more load)
  double window_start_s = 0;     // keep arrivals in [start, end), times rebased to start
  double window_end_s = std::numeric_limits<double>::infinity();
  TokenRange filter_prompt;      // workload.filter.prompt_tokens: keep requests whose prompt is in range
  TokenRange filter_output;      // workload.filter.output_tokens: same, for the (true) output length
  int64_t max_requests = std::numeric_limits<int64_t>::max();

  // Tags drawn per request from their own seed streams (traces/tag_stream.h), before the options above;
  // a tag the scenario sets replaces what the trace says.
  std::vector<double> priority_shares;  // workload.priorities: shares of priority classes 0, 1, ...; empty: untouched
  int64_t prefix_groups = 0;            // workload.shared_prefix.groups; 0: untouched
  int64_t prefix_tokens = 0;            // .tokens: the shared prefix's length (capped at prompt - 1)
  double prefix_share = 1.0;            // .share: fraction of requests that carry one
  double prefix_zipf = 0;               // .zipf: group k+1 drawn with weight 1 / (k+1)^zipf (0: uniform)
};

}  // namespace gpufleet
