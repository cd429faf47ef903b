// Tags requests with what a trace may not carry: a priority class and a shared prompt prefix, drawn per
// request from seeded streams of their own (so tagging never shifts arrivals or lengths). Used for the
// scenario's workload.priorities and workload.shared_prefix (docs/scenario.md).
#pragma once

#include <cstdint>
#include <memory>

#include "traces/request_stream.h"
#include "traces/workload_spec.h"

namespace gpufleet {

// True when `spec` asks for any tag.
bool WantsTags(const WorkloadSpec& spec);

// Priority: class k with probability priority_shares[k] (normalized). Prefix: with probability
// prefix_share, group 1..prefix_groups (Zipf with exponent prefix_zipf over the group index) and
// prefix_tokens = min(spec.prefix_tokens, prompt_tokens - 1); a one-token prompt never shares.
std::unique_ptr<RequestStream> MakeTaggedStream(std::unique_ptr<RequestStream> inner, const WorkloadSpec& spec,
                                                uint64_t seed);

}  // namespace gpufleet
