// Load-balancing migration, after Llumnix (Sun et al., OSDI 2024): every `interval_s`, rank the replicas by
// "freeness", the share of their KV cache left once their queued prompts are in (free blocks x block size
// less queued prompt tokens, over the cache's tokens; negative when the queue alone overflows it), and
// pair the least free with the most free while the two differ by more than `threshold`, up to
// `max_moves` pairs a round, each replica in one pair at most. A source needs two requests or more in
// flight (moving its only request balances nothing). This frees memory on a replica about to preempt
// and evens the load the router could not foresee (output lengths are unknown at routing time).
#include <algorithm>
#include <numeric>

#include "policies/migration/migration_policy.h"

namespace gpufleet {
namespace {

class LoadBalanceMigration final : public MigrationPolicy {
 public:
  LoadBalanceMigration(double interval_s, double threshold, int64_t max_moves)
      : interval_s_(interval_s), threshold_(threshold), max_moves_(max_moves) {}

  double interval_s() const override { return interval_s_; }

  void Plan(const FleetView& fleet, std::vector<MigrationMove>* moves) override {
    const size_t n = fleet.size();
    freeness_.resize(n);
    order_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      const ReplicaLoad& l = fleet.load(r);
      const double block = static_cast<double>(fleet.profile(r).kv_block_tokens);
      const double capacity = std::max(1.0, static_cast<double>(l.kv_total_blocks) * block);
      freeness_[r] = (static_cast<double>(l.kv_free_blocks) * block - static_cast<double>(l.queued_prompt_tokens)) / capacity;
    }
    std::iota(order_.begin(), order_.end(), size_t{0});
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return freeness_[a] < freeness_[b]; });
    size_t lo = 0, hi = n;
    for (int64_t k = 0; k < max_moves_ && lo + 1 < hi; ++k) {
      // The least free source with something to move, against the most free destination left.
      while (lo + 1 < hi && fleet.load(order_[lo]).outstanding_requests < 2) ++lo;
      if (lo + 1 >= hi) break;
      const size_t from = order_[lo], to = order_[hi - 1];
      if (freeness_[to] - freeness_[from] <= threshold_) break;
      moves->push_back({from, to});
      ++lo;
      --hi;
    }
  }

 private:
  double interval_s_, threshold_;
  int64_t max_moves_;
  std::vector<double> freeness_;
  std::vector<size_t> order_;
};

absl::StatusOr<std::unique_ptr<MigrationPolicy>> MakeLoadBalance(MapReader& m) {
  double interval_s = 0.5, threshold = 0.3;
  int64_t max_moves = 1;
  if (auto st = m.Opt("interval_s", &interval_s, 1e-3, 3600); !st.ok()) return st;
  if (auto st = m.Opt("threshold", &threshold, 0, 2); !st.ok()) return st;
  if (auto st = m.Opt("max_moves", &max_moves, 1, 1024); !st.ok()) return st;
  return std::make_unique<LoadBalanceMigration>(interval_s, threshold, max_moves);
}

GF_REGISTER_POLICY(MigrationPolicy, "load_balance",
                   "Llumnix-style: every interval_s, move a request from the least to the most KV-free replica "
                   "while they differ by more than threshold (params: interval_s, threshold, max_moves)",
                   MakeLoadBalance);

}  // namespace
}  // namespace gpufleet
