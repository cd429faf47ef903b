// Round robin: replicas in turn, blind to load.
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class RoundRobinRouter final : public Router {
 public:
  size_t Route(const TraceRequest&, const FleetView& fleet) override {
    return next_++ % fleet.size();
  }

 private:
  size_t next_ = 0;
};

GF_REGISTER_POLICY(Router, "round_robin", "replicas in turn, blind to load",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> {
                     return std::make_unique<RoundRobinRouter>();
                   });

}  // namespace
}  // namespace gpufleet
