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
