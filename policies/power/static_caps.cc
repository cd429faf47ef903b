// Static caps: every replica (or those of the listed groups) capped from the start of the run to
// `cap_fraction` x its GPU's TDP, or to `cap_w` watts per GPU, clamped to the GPU's settable range.
//
//   power: {controller: {type: static, cap_fraction: 0.8, groups: [a100-decode]}}
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "policies/power/power_controller.h"

namespace gpufleet {
namespace {

class StaticCaps final : public PowerController {
 public:
  StaticCaps(double cap_fraction, double cap_w, std::vector<std::string> groups, std::string file, YAML::Mark mark)
      : cap_fraction_(cap_fraction), cap_w_(cap_w), groups_(std::move(groups)), file_(std::move(file)), mark_(mark) {}

  absl::Status Bind(const PolicyBinding& binding) override {
    const std::vector<std::string>& group_names = binding.group_names;
    if (groups_.empty()) {
      capped_.assign(group_names.size(), true);
      return absl::OkStatus();
    }
    auto named = ResolveGroupNames(file_, mark_, "power.controller.groups", groups_, group_names);
    if (!named.ok()) return named.status();
    capped_ = *std::move(named);
    return absl::OkStatus();
  }

  void Control(const PowerReading& reading, std::vector<double>* limits_w) override {
    for (const ReplicaPowerState& r : reading.replicas) {
      if (!capped_[static_cast<size_t>(r.group)]) continue;
      const double w = cap_w_ > 0 ? cap_w_ : cap_fraction_ * r.tdp_w;
      (*limits_w)[static_cast<size_t>(r.replica)] = std::clamp(w, r.min_limit_w, r.tdp_w);
    }
  }

 private:
  double cap_fraction_, cap_w_;
  std::vector<std::string> groups_;
  std::string file_;
  YAML::Mark mark_;
  std::vector<bool> capped_;  // by group
};

absl::StatusOr<std::unique_ptr<PowerController>> MakeStatic(MapReader& m) {
  double cap_fraction = 0, cap_w = 0;
  if (auto s = m.Opt("cap_fraction", &cap_fraction, 0.05, 1.0); !s.ok()) return s;
  if (auto s = m.Opt("cap_w", &cap_w, 1, 5000); !s.ok()) return s;
  YAML::Mark mark = m.node().Mark();
  if (m.Has("groups")) mark = m.node()["groups"].Mark();
  std::vector<std::string> groups;
  if (auto s = m.Opt("groups", &groups); !s.ok()) return s;
  if (!m.describing() && (cap_fraction > 0) == (cap_w > 0)) {
    return m.Error(absl::StrCat(m.what(), " of type static needs exactly one of cap_fraction and cap_w"),
                   "cap_fraction: share of TDP (0.05-1), or cap_w: watts per GPU");
  }
  return std::make_unique<StaticCaps>(cap_fraction, cap_w, std::move(groups), m.file(), mark);
}

GF_REGISTER_POLICY(PowerController, "static",
                   "fixed caps from the start (params: cap_fraction of TDP or cap_w per GPU; groups, default all)",
                   MakeStatic);

}  // namespace
}  // namespace gpufleet
