// A request's life inside a replica: the plain struct that queues, schedulers and metrics share.
//
// Token bookkeeping follows the "computed tokens" view: a sequence knows prompt + generated tokens, of
// which `computed` have their KV in the cache. An iteration computes some of the rest (a prompt, a
// prompt chunk, or the one token of a decode step); when computed catches up with the known tokens, the
// model emits the next token. Preemption by recompute drops the cache (computed = 0), so the next
// prefill covers prompt + generated tokens; preemption by swap moves the cache to host memory and keeps
// `computed`, so the sequence resumes where it stopped once the cache is back.
#pragma once

#include <cstdint>

#include "traces/request_stream.h"

namespace gpufleet {

struct Sequence {
  TraceRequest req;
  uint32_t prompt_tokens = 0;   // after any truncation to max_model_len
  uint32_t generated = 0;       // output tokens emitted so far
  uint32_t computed = 0;        // tokens whose KV is cached
  int64_t blocks = 0;           // KV blocks held
  bool swapped = false;         // preempted by swap: `computed` tokens of KV wait in host memory, no blocks held
  uint32_t cached_prefix_tokens = 0;  // leading tokens read from the replica's prefix cache (whole blocks, not held)
  int replica = -1;

  // Timeline, seconds of simulated time; -1 until it happens.
  double first_scheduled_s = -1;
  double first_token_s = -1;
  double last_token_s = -1;
  // Inter-token gaps: aggregates, and how many exceeded the TBT SLO target.
  double max_gap_s = 0;
  uint32_t gaps_over_tbt_target = 0;
  uint32_t preemptions = 0;
  // Disaggregated serving: how long its KV cache took to move from the prefill replica to the decode
  // replica (its first token reaches the user when the cache lands); -1 when one replica served it all.
  float kv_transfer_s = -1;

  uint32_t known_tokens() const { return prompt_tokens + generated; }
  uint32_t pending_tokens() const { return known_tokens() - computed; }
  bool in_prefill() const { return computed < prompt_tokens || generated == 0; }
  bool finished() const { return generated >= req.output_tokens; }
};

}  // namespace gpufleet
