// Preemption mechanics shared by batch schedulers (see scheduler_common.h).
#include "policies/batching/scheduler_common.h"

#include <algorithm>

namespace gpufleet {

void PreemptForRecompute(ReplicaState& state, Sequence* seq) {
  auto it = std::find(state.running.begin(), state.running.end(), seq);
  if (it != state.running.end()) state.running.erase(it);
  state.kv.Release(*seq);
  seq->computed = 0;
  ++seq->preemptions;
  ++state.preemptions;
  state.waiting.push_front(seq);
}

int64_t HeldTokens(const Sequence& seq) {
  return std::max<int64_t>(0, static_cast<int64_t>(seq.computed) - static_cast<int64_t>(seq.cached_prefix_tokens));
}

void PreemptBySwap(ReplicaState& state, Sequence* seq) {
  auto it = std::find(state.running.begin(), state.running.end(), seq);
  if (it != state.running.end()) state.running.erase(it);
  const int64_t tokens = HeldTokens(*seq);
  state.swap_s += state.costs.SwapSeconds(tokens);
  state.swapped_bytes += state.costs.kv_bytes_per_token * static_cast<double>(tokens);
  state.kv.Release(*seq);
  seq->swapped = true;
  ++seq->preemptions;
  ++state.preemptions;
  ++state.swaps;
  state.waiting.push_front(seq);
}

void SwapIn(ReplicaState& state, Sequence* seq) {
  const int64_t tokens = HeldTokens(*seq);
  state.swap_s += state.costs.SwapSeconds(tokens);
  state.swapped_bytes = std::max(0.0, state.swapped_bytes - state.costs.kv_bytes_per_token * static_cast<double>(tokens));
  seq->swapped = false;
}

bool ReserveOrPreempt(ReplicaState& state, Sequence* seq, int64_t tokens, const std::vector<ScheduledSeq>& batch) {
  while (!state.kv.Reserve(*seq, tokens)) {
    // The victim is the lowest-priority running sequence not yet scheduled in this iteration.
    Sequence* victim = nullptr;
    for (auto it = state.running.rbegin(); it != state.running.rend(); ++it) {
      const bool scheduled = std::any_of(batch.begin(), batch.end(), [&](const ScheduledSeq& s) { return s.seq == *it; });
      if (!scheduled) {
        victim = *it;
        break;
      }
    }
    if (victim == nullptr) return false;
    PreemptForRecompute(state, victim);
    if (victim == seq) return false;
  }
  return true;
}

}  // namespace gpufleet
