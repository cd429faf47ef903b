// Prefix affinity: requests that share a prompt prefix (TraceRequest::prefix_id) go where that prefix
// went last, so replicas with a prefix cache (deployment[].prefix_cache) find it there and skip its
// prefill; a prefix's home moves to the least-loaded replica when it has more than `max_imbalance_tokens`
// outstanding tokens beyond that replica (the load bound SGLang's cache-aware router and Preble apply, so
// a popular prefix cannot pin one replica under a hot spot). Requests without a shared prefix, and a
// prefix's first request, go to the least outstanding tokens. O(1) per arrival plus a hash lookup.
#include <unordered_map>

#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class PrefixAffinityRouter final : public Router {
 public:
  explicit PrefixAffinityRouter(int64_t max_imbalance) : max_imbalance_(max_imbalance) {}
  RouterNeeds Needs() const override { return {.least_tokens = true}; }

  size_t Route(const TraceRequest& request, const FleetView& fleet) override {
    const int least = fleet.LeastOutstandingTokens();
    if (request.prefix_id == 0) return static_cast<size_t>(least);
    auto [it, fresh] = home_.try_emplace(request.prefix_id, least);
    if (!fresh && fleet.load(static_cast<size_t>(it->second)).outstanding_tokens -
                          fleet.load(static_cast<size_t>(least)).outstanding_tokens >
                      max_imbalance_) {
      it->second = least;
    }
    return static_cast<size_t>(it->second);
  }

 private:
  int64_t max_imbalance_;
  std::unordered_map<uint32_t, int> home_;  // prefix id -> the replica that last took it
};

absl::StatusOr<std::unique_ptr<Router>> MakePrefixAffinity(MapReader& m) {
  int64_t max_imbalance = 8192;
  if (auto st = m.Opt("max_imbalance_tokens", &max_imbalance, 0, int64_t{1} << 40); !st.ok()) return st;
  return std::make_unique<PrefixAffinityRouter>(max_imbalance);
}

GF_REGISTER_POLICY(Router, "prefix_affinity",
                   "a shared prefix's requests to the replica that took it last (its prefix cache), unless that "
                   "one is max_imbalance_tokens above the least loaded (params: max_imbalance_tokens)",
                   MakePrefixAffinity);

}  // namespace
}  // namespace gpufleet
