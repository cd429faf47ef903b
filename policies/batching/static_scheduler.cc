// Static batching (FasterTransformer, Triton without in-flight batching): the baseline that continuous
// batching is measured against.
//
// A batch of up to max_batch_size waiting requests (FCFS, as many as the KV pool holds) is prefilled
// together, then decoded together until its last member finishes. The prefill takes as few iterations of
// whole prompts as max_batched_tokens allows (one, unless the prompts add up to more), the decodes wait
// for all of it. Members that finish early keep their slot: nothing
// joins until the whole batch is done, which is what wastes the GPU on uneven output lengths. With
// `max_wait_s` > 0 an idle replica holds a partial batch until it fills or its oldest request has waited
// that long (the dynamic batcher's max queue delay); at 0 (the default) a batch is whatever waits when the
// previous one ends. KV for each member's prompt + whole output is reserved at admission, so a batch never
// preempts. FasterTransformer reserves for the configured maximum length instead; reserving the exact
// output (which the trace knows) is the kinder baseline: more members fit, the latency gap to continuous
// batching is a lower bound.
#include <algorithm>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

class StaticScheduler final : public BatchScheduler {
 public:
  explicit StaticScheduler(double max_wait_s) : max_wait_s_(max_wait_s) {}
  bool chunks_prefills() const override { return false; }

  void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) override {
    batch->clear();
    if (!state.running.empty()) {
      // The batch in progress: prompts not yet prefilled first, whole, as many as the budget takes.
      int64_t budget = state.limits.max_batched_tokens;
      for (Sequence* seq : state.running) {
        if (seq->generated > 0 || seq->pending_tokens() > budget) continue;
        batch->push_back({seq, seq->pending_tokens()});
        budget -= seq->pending_tokens();
      }
      if (!batch->empty()) return;
      // Then one decode step of every member still generating.
      for (size_t i = 0; i < state.running.size(); ++i) {
        Sequence* seq = state.running[i];
        if (!ReserveOrPreempt(state, seq, seq->computed + seq->pending_tokens(), *batch)) break;
        batch->push_back({seq, seq->pending_tokens()});
      }
      return;
    }
    // Form the next batch: FCFS while the slots and the KV pool allow.
    size_t members = 0;
    int64_t blocks = 0;
    bool full = false;  // waiting longer cannot make it bigger
    for (const Sequence* seq : state.waiting) {
      if (static_cast<int64_t>(members) >= state.limits.max_batch_size) {
        full = true;
        break;
      }
      const int64_t need = state.kv.BlocksFor(Reserved(*seq));
      if (blocks + need > state.kv.free()) {
        full = true;
        break;
      }
      ++members;
      blocks += need;
    }
    if (members == 0) return;
    full = full || static_cast<int64_t>(members) >= state.limits.max_batch_size;
    const double deadline_s = state.waiting.front()->req.arrival_s + max_wait_s_;
    if (!full && state.now_s < deadline_s) {
      state.wake_at_s = deadline_s;  // hold the partial batch; arrivals before then may fill it
      return;
    }
    int64_t budget = state.limits.max_batched_tokens;
    for (size_t i = 0; i < members; ++i) {
      Sequence* seq = state.waiting.front();
      if (!state.kv.Reserve(*seq, Reserved(*seq))) break;
      state.waiting.pop_front();
      state.running.push_back(seq);
      // The first prefill iteration: whole prompts while the budget lasts (the rest follow, above).
      if (seq->pending_tokens() <= budget) {
        batch->push_back({seq, seq->pending_tokens()});
        budget -= seq->pending_tokens();
      }
    }
  }

 private:
  // Tokens of KV a member holds for the whole batch: prompt and every output token.
  static int64_t Reserved(const Sequence& seq) {
    return std::max<int64_t>(seq.known_tokens(), static_cast<int64_t>(seq.prompt_tokens) + seq.req.output_tokens);
  }

  double max_wait_s_;
};

GF_REGISTER_POLICY(BatchScheduler, "static",
                   "static batching (FasterTransformer): a batch is prefilled together and decoded until its "
                   "last member finishes before the next starts; max_wait_s holds a partial batch",
                   [](MapReader& params) -> absl::StatusOr<std::unique_ptr<BatchScheduler>> {
                     double max_wait_s = 0;
                     if (auto st = params.Opt("max_wait_s", &max_wait_s, 0.0, 3600.0); !st.ok()) return st;
                     return std::make_unique<StaticScheduler>(max_wait_s);
                   });

}  // namespace
}  // namespace gpufleet
