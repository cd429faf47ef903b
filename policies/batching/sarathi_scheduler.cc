// Chunked-prefill continuous batching (Sarathi-Serve; vLLM v1's default).
//
// Every iteration spends a token budget: running sequences first (decode steps and the next chunk of
// prompts already in progress), then new prompts from the waiting queue, each cut to what the budget
// has left. Decodes never stall behind a long prompt, and prompts longer than the budget still run.
#include <algorithm>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

class SarathiScheduler final : public BatchScheduler {
 public:
  explicit SarathiScheduler(double watermark) : watermark_(watermark) {}
  bool chunks_prefills() const override { return true; }

  void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) override {
    batch->clear();
    int64_t budget = state.limits.max_batched_tokens;
    for (size_t i = 0; i < state.running.size() && budget > 0; ++i) {
      Sequence* seq = state.running[i];
      const int64_t n = std::min<int64_t>(seq->pending_tokens(), budget);
      if (!ReserveOrPreempt(state, seq, seq->computed + n, *batch)) break;
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
    const int64_t watermark_blocks = static_cast<int64_t>(watermark_ * static_cast<double>(state.kv.total()));
    while (budget > 0 && !state.waiting.empty() &&
           static_cast<int64_t>(state.running.size()) < state.limits.max_batch_size) {
      Sequence* seq = state.waiting.front();
      const int64_t n = std::min<int64_t>(seq->pending_tokens(), budget);
      // The watermark keeps headroom for running decodes; an idle replica admits whatever fits.
      const int64_t floor_blocks = state.running.empty() ? 0 : watermark_blocks;
      if (state.kv.free() - state.kv.BlocksFor(seq->computed + n) < floor_blocks) break;
      state.kv.Reserve(*seq, seq->computed + n);
      state.waiting.pop_front();
      state.running.push_back(seq);
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
  }

 private:
  double watermark_;
};

GF_REGISTER_POLICY(BatchScheduler, "sarathi",
                   "chunked-prefill continuous batching (Sarathi-Serve, vLLM v1): decodes first, prompts "
                   "chunked into the leftover token budget",
                   [](MapReader& params) -> absl::StatusOr<std::unique_ptr<BatchScheduler>> {
                     double watermark = 0.01;
                     if (auto st = params.Opt("watermark", &watermark, 0.0, 0.5); !st.ok()) return st;
                     return std::make_unique<SarathiScheduler>(watermark);
                   });

}  // namespace
}  // namespace gpufleet
