// Least outstanding tokens: the replica with the least unprocessed work, counted in tokens (prompt tokens
// not yet prefilled plus output tokens not yet generated), so one long prompt weighs more than a short one.
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class LeastOutstandingTokensRouter final : public Router {
 public:
  size_t Route(const TraceRequest&, std::span<const ReplicaLoad> replicas) override {
    size_t best = 0;
    for (size_t i = 1; i < replicas.size(); ++i) {
      if (replicas[i].outstanding_tokens < replicas[best].outstanding_tokens) best = i;
    }
    return best;
  }
};

GF_REGISTER_POLICY(Router, "least_outstanding_tokens", "least unprocessed prompt + output tokens",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> {
                     return std::make_unique<LeastOutstandingTokensRouter>();
                   });

}  // namespace
}  // namespace gpufleet
