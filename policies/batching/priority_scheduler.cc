// Priority classes with preemption (TraceRequest::priority: larger is more important).
//
// The waiting queue and the running set are kept in (priority desc, arrival) order, so the back of
// `running` is always the lowest class's most recent request. An iteration takes the running sequences
// first, highest class first (a decode step, or the next chunk), then admits waiting requests in class
// order: whole prompts as Orca does, or with `chunk_tokens` set, prompts cut to that many tokens and to
// the budget left, as Sarathi does. A waiting request that finds no blocks evicts running requests of a
// strictly lower class (lowest class, most recent first, even ones already in this batch); within a class
// it waits, as in vLLM. A running sequence that cannot grow evicts from the back as vLLM does.
//
// Each eviction is priced per sequence and takes the cheaper way back:
//   swap      = 2 x its KV bytes / the replica's host link (out now, back in when readmitted; both
//               transfers are charged to those iterations, state.swap_s);
//   recompute = the perf model's time for a prefill of its computed tokens alone (iteration overhead
//               included, as a recompute of a lone sequence pays it).
// `preemption: swap | recompute` forces one way; a swap falls back to recompute when host swap space
// (`swap_space_gb` per replica, 0: unbounded) is full or the GPU has no host link figure.
#include <algorithm>
#include <limits>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

// Class order: higher priority first, then arrival (then id, for a total order).
bool Before(const Sequence* a, const Sequence* b) {
  if (a->req.priority != b->req.priority) return a->req.priority > b->req.priority;
  if (a->req.arrival_s != b->req.arrival_s) return a->req.arrival_s < b->req.arrival_s;
  return a->req.id < b->req.id;
}

enum class Preemption { kAuto, kSwap, kRecompute };

class PriorityScheduler final : public BatchScheduler {
 public:
  PriorityScheduler(Preemption mode, int64_t chunk_tokens, double watermark, double swap_space_bytes)
      : mode_(mode), chunk_tokens_(chunk_tokens), watermark_(watermark), swap_space_bytes_(swap_space_bytes) {}
  bool chunks_prefills() const override { return chunk_tokens_ > 0; }

  void Schedule(ReplicaState& state, std::vector<ScheduledSeq>* batch) override {
    batch->clear();
    evicted_.clear();
    // Arrivals join the back and caches land at the back; most iterations find both orders intact.
    if (!std::is_sorted(state.waiting.begin(), state.waiting.end(), Before)) {
      std::stable_sort(state.waiting.begin(), state.waiting.end(), Before);
    }
    if (!std::is_sorted(state.running.begin(), state.running.end(), Before)) {
      std::stable_sort(state.running.begin(), state.running.end(), Before);
    }
    int64_t budget = state.limits.max_batched_tokens;
    for (size_t i = 0; i < state.running.size() && budget > 0; ++i) {
      Sequence* seq = state.running[i];
      const int64_t n = Share(*seq, budget);
      if (n == 0) continue;  // a landed cache whose whole prompt is over the budget left: next iteration
      if (!Grow(state, i, seq->computed + n)) break;
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
    // A pool so short that running sequences were evicted admits nothing this iteration (as vLLM does).
    if (evicted_.empty()) Admit(state, batch, budget);
  }

 private:
  // Tokens `seq` computes this iteration with `budget` left; 0 when a whole prompt does not fit.
  int64_t Share(const Sequence& seq, int64_t budget) const {
    const int64_t pending = seq.pending_tokens();
    if (chunk_tokens_ > 0) return std::min({pending, chunk_tokens_, budget});
    return pending <= budget ? pending : 0;
  }

  // Blocks `seq` still needs to hold `tokens` (KvBlockPool::Reserve's count).
  static int64_t BlocksNeeded(const ReplicaState& state, const Sequence& seq, int64_t tokens) {
    return state.kv.BlocksFor(tokens) - seq.cached_prefix_tokens / state.kv.block_size() - seq.blocks;
  }

  // Grows running[i] to `tokens`, evicting from the back of `running` (never what is already in this
  // batch: running[0..i)). False when running[i] itself had to go.
  bool Grow(ReplicaState& state, size_t i, int64_t tokens) {
    Sequence* seq = state.running[i];
    while (!state.kv.Reserve(*seq, tokens)) {
      Sequence* victim = state.running.back();
      Evict(state, victim);
      if (victim == seq) return false;
    }
    return true;
  }

  void Admit(ReplicaState& state, std::vector<ScheduledSeq>* batch, int64_t budget) {
    const int64_t watermark_blocks = static_cast<int64_t>(watermark_ * static_cast<double>(state.kv.total()));
    while (budget > 0 && !state.waiting.empty() &&
           static_cast<int64_t>(state.running.size()) < state.limits.max_batch_size) {
      Sequence* seq = state.waiting.front();
      if (std::find(evicted_.begin(), evicted_.end(), seq) != evicted_.end()) break;
      const int64_t n = Share(*seq, budget);
      if (n == 0) break;  // a class's head that does not fit holds back everything behind it
      const int64_t tokens = seq->computed + n;
      // The watermark keeps headroom for running decodes; an idle replica admits whatever fits.
      auto short_of_blocks = [&] {
        const int64_t floor_blocks = state.running.empty() ? 0 : watermark_blocks;
        return state.kv.free() - BlocksNeeded(state, *seq, tokens) < floor_blocks;
      };
      while (short_of_blocks() && !state.running.empty() && state.running.back()->req.priority < seq->req.priority) {
        Sequence* victim = state.running.back();
        auto in_batch = std::find_if(batch->begin(), batch->end(), [&](const ScheduledSeq& s) { return s.seq == victim; });
        if (in_batch != batch->end()) {
          budget += in_batch->tokens;
          batch->erase(in_batch);
        }
        Evict(state, victim);
      }
      if (short_of_blocks() || !state.kv.Reserve(*seq, tokens)) break;
      state.waiting.pop_front();
      if (seq->swapped) SwapIn(state, seq);
      state.running.insert(std::upper_bound(state.running.begin(), state.running.end(), seq, Before), seq);
      batch->push_back({seq, static_cast<uint32_t>(n)});
      budget -= n;
    }
  }

  // Preempts `victim` the cheaper way and files it in the waiting queue in class order.
  void Evict(ReplicaState& state, Sequence* victim) {
    const int64_t tokens = HeldTokens(*victim);
    const double bytes = state.costs.kv_bytes_per_token * static_cast<double>(tokens);
    const bool room = swap_space_bytes_ <= 0 || state.swapped_bytes + bytes <= swap_space_bytes_;
    bool swap = false;
    if (mode_ != Preemption::kRecompute && tokens > 0 && state.costs.can_swap() && room) {
      if (mode_ == Preemption::kSwap) {
        swap = true;
      } else {
        const double swap_s = 2 * state.costs.SwapSeconds(tokens);
        const double recompute_s =
            state.costs.prefill_s ? state.costs.prefill_s(tokens) : std::numeric_limits<double>::infinity();
        swap = swap_s < recompute_s;
      }
    }
    if (swap) {
      PreemptBySwap(state, victim);
    } else {
      PreemptForRecompute(state, victim);
    }
    // Both put it at the front; its class and arrival decide where it waits.
    state.waiting.pop_front();
    state.waiting.insert(std::upper_bound(state.waiting.begin(), state.waiting.end(), victim, Before), victim);
    evicted_.push_back(victim);
  }

  Preemption mode_;
  int64_t chunk_tokens_;
  double watermark_;
  double swap_space_bytes_;
  std::vector<Sequence*> evicted_;  // this iteration's, not readmitted in it
};

absl::StatusOr<std::unique_ptr<BatchScheduler>> MakePriorityScheduler(MapReader& params) {
  std::string preemption = "auto";
  int64_t chunk_tokens = 0;
  double watermark = 0.01;
  double swap_space_gb = 0;
  // Every parameter is read before any is judged (the policies listing reads them all).
  const absl::Status statuses[] = {
      params.OptEnum("preemption", {"auto", "swap", "recompute"}, &preemption),
      params.Opt("chunk_tokens", &chunk_tokens, 0, 1 << 24),
      params.Opt("watermark", &watermark, 0.0, 0.5),
      params.Opt("swap_space_gb", &swap_space_gb, 0.0, 1e6),
  };
  for (const absl::Status& st : statuses) {
    if (!st.ok()) return st;
  }
  const Preemption mode = preemption == "swap"        ? Preemption::kSwap
                          : preemption == "recompute" ? Preemption::kRecompute
                                                      : Preemption::kAuto;
  return std::make_unique<PriorityScheduler>(mode, chunk_tokens, watermark, swap_space_gb * 1e9);
}

GF_REGISTER_POLICY(BatchScheduler, "priority",
                   "priority classes: waiting in (priority, arrival) order, higher classes preempt lower ones "
                   "by swap or recompute, whichever is cheaper",
                   MakePriorityScheduler);

}  // namespace
}  // namespace gpufleet
