// No controller: the GPUs run at their groups' own limits (`power_limit_w`, default TDP) throughout.
#include "policies/power/power_controller.h"

namespace gpufleet {
namespace {

class NoController final : public PowerController {
 public:
  void Control(const PowerReading&, std::vector<double>*) override {}
};

GF_REGISTER_POLICY(PowerController, "none", "never changes a power limit (the default)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<PowerController>> {
                     return std::make_unique<NoController>();
                   });

}  // namespace
}  // namespace gpufleet
