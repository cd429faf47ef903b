// Least outstanding tokens: the replica with the least unprocessed work, counted in tokens (prompt tokens
// not yet prefilled plus output tokens not yet generated), so one long prompt weighs more than a short one.
// Lowest index on ties.
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class LeastOutstandingTokensRouter final : public Router {
 public:
  RouterNeeds Needs() const override { return {.least_tokens = true}; }
  size_t Route(const TraceRequest&, const FleetView& fleet) override {
    return static_cast<size_t>(fleet.LeastOutstandingTokens());
  }
};

GF_REGISTER_POLICY(Router, "least_outstanding_tokens", "least unprocessed prompt + output tokens",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> {
                     return std::make_unique<LeastOutstandingTokensRouter>();
                   });

}  // namespace
}  // namespace gpufleet
