// vLLM's classic continuous batching (v0 default): prefill-first, whole prompts, no mixing.
//
// An iteration is either a prefill of newly admitted prompts (FCFS while their blocks, the token budget
// and the sequence limit allow; admission keeps `watermark` of the pool free) or one decode step of
// every running sequence, preempting the most recent arrivals by recompute when the pool runs dry.
#include <algorithm>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

class VllmScheduler final : public BatchScheduler {
 public:
  explicit VllmScheduler(double watermark) : watermark_(watermark) {}
  bool chunks_prefills() const override { return false; }

  void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) override {
    batch->clear();
    const int64_t watermark_blocks = static_cast<int64_t>(watermark_ * static_cast<double>(state.kv.total()));
    int64_t tokens = 0;
    while (!state.waiting.empty()) {
      Sequence* seq = state.waiting.front();
      const int64_t need_tokens = seq->pending_tokens();
      if (tokens + need_tokens > state.limits.max_batched_tokens) break;
      if (static_cast<int64_t>(state.running.size()) >= state.limits.max_batch_size) break;
      // The watermark keeps headroom for running decodes; an idle replica admits whatever fits.
      const int64_t floor_blocks = state.running.empty() ? 0 : watermark_blocks;
      if (state.kv.free() - state.kv.BlocksFor(seq->known_tokens()) < floor_blocks) break;
      state.kv.Reserve(*seq, seq->known_tokens());
      state.waiting.pop_front();
      state.running.push_back(seq);
      batch->push_back({seq, static_cast<uint32_t>(need_tokens)});
      tokens += need_tokens;
    }
    if (!batch->empty()) return;

    // Decode step, oldest first; preemption removes from the back of `running`, so iterate by index
    // over a shrinking vector.
    for (size_t i = 0; i < state.running.size(); ++i) {
      Sequence* seq = state.running[i];
      if (!ReserveOrPreempt(state, seq, seq->computed + 1, *batch)) break;
      batch->push_back({seq, 1});
    }
  }

 private:
  double watermark_;
};

GF_REGISTER_POLICY(BatchScheduler, "vllm",
                   "vLLM v0 continuous batching: prefill-first, whole prompts, preemption by recompute",
                   [](MapReader& params) -> absl::StatusOr<std::unique_ptr<BatchScheduler>> {
                     double watermark = 0.01;
                     if (auto st = params.Opt("watermark", &watermark, 0.0, 0.5); !st.ok()) return st;
                     return std::make_unique<VllmScheduler>(watermark);
                   });

}  // namespace
}  // namespace gpufleet
