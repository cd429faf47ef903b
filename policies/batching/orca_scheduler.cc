// Orca's iteration-level scheduling (Yu et al., OSDI 2022): every iteration mixes the whole prompts of
// newly admitted requests with one decode step of every running request.
//
// Unlike vLLM v0 a prompt does not wait for a prefill-only iteration, and unlike Sarathi it is never cut:
// it joins the next iteration whole once its blocks, the token budget left after the decodes and
// max_batch_size allow. Orca predates paged attention and reserves a request's KV for its whole length at
// admission (`reserve: full`, the default: prompt + output tokens, the output length the trace knows,
// "Orca (Oracle)" in the vLLM paper's terms), so it never preempts; `reserve: paged` grows caches block by
// block like vLLM instead, keeping `watermark` free at admission and preempting the newest by recompute.
#include <algorithm>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

class OrcaScheduler final : public BatchScheduler {
 public:
  OrcaScheduler(bool reserve_full, double watermark) : reserve_full_(reserve_full), watermark_(watermark) {}
  bool chunks_prefills() const override { return false; }

  void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) override {
    batch->clear();
    int64_t budget = state.limits.max_batched_tokens;
    const int64_t preempted_before = state.preemptions;
    // Decodes first, oldest first (a cache that landed or came back whole may still owe a prompt: it runs
    // whole too). Preemption removes from the back of `running`, so iterate by index.
    for (size_t i = 0; i < state.running.size(); ++i) {
      Sequence* seq = state.running[i];
      const int64_t n = seq->pending_tokens();
      if (n > budget) break;
      if (!ReserveOrPreempt(state, seq, seq->computed + n, *batch)) break;
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
    // A pool so short that it preempted admits nothing this iteration (as vLLM does).
    if (state.preemptions != preempted_before) return;
    const int64_t watermark_blocks =
        reserve_full_ ? 0 : static_cast<int64_t>(watermark_ * static_cast<double>(state.kv.total()));
    while (!state.waiting.empty() && static_cast<int64_t>(state.running.size()) < state.limits.max_batch_size) {
      Sequence* seq = state.waiting.front();
      const int64_t n = seq->pending_tokens();
      if (n > budget) break;  // FCFS: a prompt that does not fit holds back the ones behind it
      const int64_t tokens = reserve_full_ ? std::max<int64_t>(seq->known_tokens(), seq->prompt_tokens + seq->req.output_tokens)
                                           : seq->known_tokens();
      const int64_t floor_blocks = state.running.empty() ? 0 : watermark_blocks;
      if (state.kv.free() - state.kv.BlocksFor(tokens) < floor_blocks) break;
      if (!state.kv.Reserve(*seq, tokens)) break;
      state.waiting.pop_front();
      state.running.push_back(seq);
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
  }

 private:
  bool reserve_full_;
  double watermark_;
};

GF_REGISTER_POLICY(BatchScheduler, "orca",
                   "Orca iteration-level scheduling: whole prompts of new requests join the decode steps of "
                   "running ones in every iteration",
                   [](MapReader& params) -> absl::StatusOr<std::unique_ptr<BatchScheduler>> {
                     std::string reserve = "full";
                     double watermark = 0.01;
                     const absl::Status reserve_st = params.OptEnum("reserve", {"full", "paged"}, &reserve);
                     const absl::Status watermark_st = params.Opt("watermark", &watermark, 0.0, 0.5);
                     if (!reserve_st.ok()) return reserve_st;
                     if (!watermark_st.ok()) return watermark_st;
                     return std::make_unique<OrcaScheduler>(reserve == "full", watermark);
                   });

}  // namespace
}  // namespace gpufleet
