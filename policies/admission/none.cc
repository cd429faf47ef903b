// No admission control: every request that passes the overlength rule is routed (the default).
#include "policies/admission/admission_policy.h"

namespace gpufleet {
namespace {

class AdmitAll final : public AdmissionPolicy {
 public:
  std::optional<std::string> Reject(const TraceRequest&, double, const FleetView&) override { return std::nullopt; }
};

GF_REGISTER_POLICY(AdmissionPolicy, "none", "admit every request (the default)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<AdmissionPolicy>> {
                     return std::make_unique<AdmitAll>();
                   });

}  // namespace
}  // namespace gpufleet
