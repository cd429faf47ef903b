// Least outstanding requests: the replica with the fewest unfinished requests (lowest index on ties).
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class LeastOutstandingRequestsRouter final : public Router {
 public:
  size_t Route(const TraceRequest&, std::span<const ReplicaLoad> replicas) override {
    size_t best = 0;
    for (size_t i = 1; i < replicas.size(); ++i) {
      if (replicas[i].outstanding_requests < replicas[best].outstanding_requests) best = i;
    }
    return best;
  }
};

GF_REGISTER_POLICY(Router, "least_outstanding_requests", "fewest unfinished requests",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> {
                     return std::make_unique<LeastOutstandingRequestsRouter>();
                   });

}  // namespace
}  // namespace gpufleet
