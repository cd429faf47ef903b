// Predictive capping (this project's design): the staged caps of capping_stages.h, moved by the power the
// cluster will draw when a cap decided now takes effect, not by the power just measured. The forecast
// extends the readings' trend (smoothed: half the last step, half the trend before it) over one telemetry
// interval plus the actuation delay, and while the fleet's queue grows (more sequences waiting or running
// than at the last reading) it never forecasts a fall. Caps so land before a surge peaks. Release waits
// until the measured and the forecast power have both stayed under release_at for `hold_readings`
// readings in a row: a capped cluster's power falls at once, which says nothing about the demand behind it.
//
//   power: {budget_w: 60000, controller: {type: predictive, cap_at: 0.9, protect: [chat]}}
#include <algorithm>

#include "policies/power/capping_stages.h"

namespace gpufleet {
namespace {

class Predictive final : public PowerController {
 public:
  Predictive(CappingStages::Params p, int64_t hold_readings) : hold_readings_(hold_readings), stages_(std::move(p)) {}
  absl::Status Bind(const PolicyBinding& binding) override { return stages_.Bind(binding.group_names); }
  bool needs_budget() const override { return true; }

  void Control(const PowerReading& reading, std::vector<double>* limits_w) override {
    if (reading.budget_w <= 0 || reading.interval_s <= 0) return;
    int64_t queue = 0;
    for (const ReplicaPowerState& r : reading.replicas) queue += r.waiting + r.running;
    double forecast = reading.it_w;
    if (have_last_) {
      slope_w_per_s_ = 0.5 * slope_w_per_s_ + 0.5 * (reading.it_w - last_w_) / reading.interval_s;
      const double ahead = reading.interval_s + reading.actuation_delay_s;
      forecast = reading.it_w + (queue > last_queue_ ? std::max(slope_w_per_s_, 0.0) : slope_w_per_s_) * ahead;
    }
    last_w_ = reading.it_w;
    last_queue_ = queue;
    have_last_ = true;
    const double share = std::max(reading.it_w, forecast) / reading.budget_w;
    below_ = share < stages_.params().release_at ? below_ + 1 : 0;
    stages_.Apply(share, below_ >= hold_readings_ ? share : 1e9, reading.replicas, limits_w);
  }

 private:
  int64_t hold_readings_;
  CappingStages stages_;
  bool have_last_ = false;
  double last_w_ = 0, slope_w_per_s_ = 0;
  int64_t last_queue_ = 0;
  int64_t below_ = 0;  // readings in a row under release_at
};

GF_REGISTER_POLICY(PowerController, "predictive",
                   "staged caps on forecast power (trend over the actuation delay, queue growth) vs power.budget_w "
                   "(params as polca, and hold_readings: readings under release_at before a release, default 3)",
                   [](MapReader& m) -> absl::StatusOr<std::unique_ptr<PowerController>> {
                     auto p = CappingStages::Read(m);
                     if (!p.ok()) return p.status();
                     int64_t hold = 3;
                     if (auto s = m.Opt("hold_readings", &hold, 1, 1000); !s.ok()) return s;
                     return std::make_unique<Predictive>(std::move(*p), hold);
                   });

}  // namespace
}  // namespace gpufleet
