// The batch scheduler of a replica: picks what the next forward iteration computes.
//
// Called by the replica before every iteration with the replica's state (waiting queue, running
// set, KV pool, limits). It must:
//  - move admitted sequences from `waiting` to `running` and reserve their KV blocks (kv.Reserve) for
//    every token it schedules;
//  - when blocks run out, preempt (PreemptForRecompute, or PreemptBySwap priced by state.costs, in
//    scheduler_common.h) rather than exceed the pool; a swapped-out sequence it admits again must be
//    brought back with SwapIn (the replica adds the transfers, state.swap_s, to the iteration);
//  - respect limits.max_batch_size and limits.max_batched_tokens;
//  - never schedule a sequence twice in one iteration.
// It must not advance time or emit tokens: the replica applies the batch after the perf model has timed it.
// An empty batch means nothing can run now: the replica waits for an arrival, or, when the scheduler sets
// state.wake_at_s after now (a batch waiting to fill), until then at the latest.
#pragma once

#include <vector>

#include "policies/policy_registry.h"
#include "sim/engine/replica_state.h"

namespace gpufleet {

class BatchScheduler {
 public:
  virtual ~BatchScheduler() = default;
  virtual void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) = 0;
  // True when the policy can split a prompt across iterations (so prompts longer than
  // max_batched_tokens are still servable).
  virtual bool chunks_prefills() const = 0;
};

using BatchSchedulerRegistry = PolicyRegistry<BatchScheduler>;

}  // namespace gpufleet
