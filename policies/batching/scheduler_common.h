// Mechanisms shared by batch schedulers: preemption by recompute and KV growth with preemption.
#pragma once

#include <vector>

#include "sim/engine/replica_state.h"

namespace gpufleet {

// Drops `seq`'s KV cache and puts it at the front of the waiting queue (it keeps its priority); its next
// prefill recomputes prompt + generated tokens. Removes it from `running`.
void PreemptForRecompute(ReplicaState& state, Sequence* seq);

// Reserves KV for `seq` to hold `tokens` cached tokens, preempting the lowest-priority running sequences
// (the back of `running`) that are not already in `batch` until it fits. Returns false if `seq` itself
// had to be preempted (it is then back in the waiting queue).
bool ReserveOrPreempt(ReplicaState& state, Sequence* seq, int64_t tokens, const std::vector<ScheduledSeq>& batch);

}  // namespace gpufleet
