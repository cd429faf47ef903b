// POLCA-style reactive capping (Patel et al., "POLCA: Power Oversubscription in LLM Cloud Providers",
// ASPLOS 2024): at each telemetry reading, the cluster's IT power against power.budget_w moves the staged
// caps of capping_stages.h: unprotected groups first, a brake on everyone near the budget, release with
// hysteresis. It reacts to what was measured, so a surge shows up one telemetry interval and one actuation
// delay late.
//
//   power:
//     budget_w: 60000
//     controller: {type: polca, cap_at: 0.9, brake_at: 0.97, release_at: 0.8, cap_fraction: 0.75,
//                  brake_fraction: 0.6, protect: [chat]}
#include "policies/power/capping_stages.h"

namespace gpufleet {
namespace {

class Polca final : public PowerController {
 public:
  explicit Polca(CappingStages::Params p) : stages_(std::move(p)) {}
  absl::Status Bind(const PolicyBinding& binding) override { return stages_.Bind(binding.group_names); }
  bool needs_budget() const override { return true; }
  void Control(const PowerReading& reading, std::vector<double>* limits_w) override {
    if (reading.budget_w <= 0 || reading.interval_s <= 0) return;
    const double share = reading.it_w / reading.budget_w;
    stages_.Apply(share, share, reading.replicas, limits_w);
  }

 private:
  CappingStages stages_;
};

GF_REGISTER_POLICY(PowerController, "polca",
                   "reactive staged caps on measured power vs power.budget_w (params: cap_at, brake_at, release_at, "
                   "cap_fraction, brake_fraction, protect)",
                   [](MapReader& m) -> absl::StatusOr<std::unique_ptr<PowerController>> {
                     auto p = CappingStages::Read(m);
                     if (!p.ok()) return p.status();
                     return std::make_unique<Polca>(std::move(*p));
                   });

}  // namespace
}  // namespace gpufleet
