// Least outstanding requests: the replica with the fewest unfinished requests (lowest index on ties).
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class LeastOutstandingRequestsRouter final : public Router {
 public:
  RouterNeeds Needs() const override { return {.least_requests = true}; }
  size_t Route(const TraceRequest&, const FleetView& fleet) override {
    return static_cast<size_t>(fleet.LeastOutstandingRequests());
  }
};

GF_REGISTER_POLICY(Router, "least_outstanding_requests", "fewest unfinished requests",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> {
                     return std::make_unique<LeastOutstandingRequestsRouter>();
                   });

}  // namespace
}  // namespace gpufleet
