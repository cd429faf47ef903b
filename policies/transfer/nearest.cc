// Nearest: the decode replica fewest links away from the prefill replica (same node, then same leaf, then
// across the spine), the least loaded of those on ties; `max_extra_tokens` lets a farther replica win when
// the nearest ones are that many outstanding tokens busier, so locality does not pile work on one replica.
#include <limits>

#include "policies/transfer/decode_target.h"

namespace gpufleet {
namespace {

class Nearest final : public DecodeTarget {
 public:
  explicit Nearest(int64_t max_extra_tokens) : max_extra_tokens_(max_extra_tokens) {}
  bool needs_distance() const override { return true; }
  RouterNeeds Needs() const override { return {.least_tokens = true}; }

  size_t Choose(const Handoff&, const FleetView& decodes, std::span<const int> hops) override {
    size_t best = 0;
    for (size_t i = 1; i < decodes.size(); ++i) {
      if (hops[i] < hops[best] ||
          (hops[i] == hops[best] && decodes.load(i).outstanding_tokens < decodes.load(best).outstanding_tokens)) {
        best = i;
      }
    }
    const int least = decodes.LeastOutstandingTokens();
    if (decodes.load(best).outstanding_tokens - decodes.load(static_cast<size_t>(least)).outstanding_tokens >
        max_extra_tokens_) {
      return static_cast<size_t>(least);
    }
    return best;
  }

 private:
  int64_t max_extra_tokens_;
};

GF_REGISTER_POLICY(DecodeTarget, "nearest",
                   "the decode replica fewest links away (least loaded on ties), unless it is max_extra_tokens "
                   "busier than the least loaded",
                   [](MapReader& m) -> absl::StatusOr<std::unique_ptr<DecodeTarget>> {
                     int64_t max_extra = std::numeric_limits<int64_t>::max();
                     if (auto st = m.Opt("max_extra_tokens", &max_extra, 0); !st.ok()) return st;
                     return std::make_unique<Nearest>(max_extra);
                   });

}  // namespace
}  // namespace gpufleet
