// Mechanisms shared by batch schedulers: preemption by recompute or by swap, and KV growth with preemption.
#pragma once

#include <vector>

#include "sim/engine/replica_state.h"

namespace gpufleet {

// Drops `seq`'s KV cache and puts it at the front of the waiting queue (it keeps its priority); its next
// prefill recomputes prompt + generated tokens. Removes it from `running`.
void PreemptForRecompute(ReplicaState& state, Sequence* seq);

// Moves `seq`'s cache to host memory and puts it at the front of the waiting queue; it keeps `computed`,
// so once SwapIn brings the cache back it resumes where it stopped. Removes it from `running`. The
// transfer is charged to this iteration (state.swap_s) and the bytes to state.swapped_bytes. Requires
// state.costs.can_swap().
void PreemptBySwap(ReplicaState& state, Sequence* seq);

// Brings a swapped-out `seq`'s cache back into the blocks the caller has just reserved for it, charging
// the transfer to this iteration.
void SwapIn(ReplicaState& state, Sequence* seq);

// Tokens of `seq`'s cache held in its own blocks (a cached prefix stays in the prefix cache): what a swap moves
// and a recompute redoes.
int64_t HeldTokens(const Sequence& seq);

// Reserves KV for `seq` to hold `tokens` cached tokens, preempting the lowest-priority running sequences
// (the back of `running`) that are not already in `batch` until it fits. Returns false if `seq` itself
// had to be preempted (it is then back in the waiting queue).
bool ReserveOrPreempt(ReplicaState& state, Sequence* seq, int64_t tokens, const std::vector<ScheduledSeq>& batch);

}  // namespace gpufleet
