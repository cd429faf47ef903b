// The staged capping that reactive and predictive controllers share (POLCA, Patel et al., ASPLOS 2024):
// above `cap_at` x budget the replicas of unprotected groups are capped to `cap_fraction` x TDP; above
// `brake_at` x budget every replica, protected (latency-critical) ones included, is braked to
// `brake_fraction` x TDP; below `release_at` x budget every cap is lifted (release_at < cap_at: hysteresis,
// so a cluster hovering near a threshold is not capped and released at every reading). Between the
// thresholds the stage holds, except that a brake eases back to plain caps once under cap_at.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "policies/power/power_controller.h"

namespace gpufleet {

class CappingStages {
 public:
  struct Params {
    double cap_at = 0.90, brake_at = 0.97, release_at = 0.80;  // shares of the budget
    double cap_fraction = 0.75, brake_fraction = 0.60;         // shares of TDP
    std::vector<std::string> protect;                          // latency-critical groups: capped last
    std::string file;
    YAML::Mark protect_mark;
  };

  // Reads the parameters shared by the staged controllers, checking their order.
  static absl::StatusOr<Params> Read(MapReader& m) {
    Params p;
    p.file = m.file();
    if (auto s = m.Opt("cap_at", &p.cap_at, 0.1, 2.0); !s.ok()) return s;
    if (auto s = m.Opt("brake_at", &p.brake_at, 0.1, 2.0); !s.ok()) return s;
    if (auto s = m.Opt("release_at", &p.release_at, 0.05, 2.0); !s.ok()) return s;
    if (auto s = m.Opt("cap_fraction", &p.cap_fraction, 0.05, 1.0); !s.ok()) return s;
    if (auto s = m.Opt("brake_fraction", &p.brake_fraction, 0.05, 1.0); !s.ok()) return s;
    if (m.Has("protect")) p.protect_mark = m.node()["protect"].Mark();
    if (auto s = m.Opt("protect", &p.protect); !s.ok()) return s;
    if (!(p.release_at < p.cap_at && p.cap_at <= p.brake_at)) {
      return m.Error(absl::StrCat(m.what(), ": thresholds release_at ", p.release_at, ", cap_at ", p.cap_at,
                                  ", brake_at ", p.brake_at, " are out of order"),
                     "release_at < cap_at <= brake_at (shares of power.budget_w)");
    }
    if (p.brake_fraction > p.cap_fraction) {
      return m.Error(absl::StrCat(m.what(), ": brake_fraction ", p.brake_fraction, " is above cap_fraction ",
                                  p.cap_fraction),
                     "brake_fraction <= cap_fraction: the brake caps harder than the first stage");
    }
    return p;
  }

  explicit CappingStages(Params p) : p_(std::move(p)) {}

  absl::Status Bind(const std::vector<std::string>& group_names) {
    auto named = ResolveGroupNames(p_.file, p_.protect_mark, "power.controller.protect", p_.protect, group_names);
    if (!named.ok()) return named.status();
    protected_ = *std::move(named);
    return absl::OkStatus();
  }

  // Moves the stage by `cap_share` (power / budget, for capping) and `release_share` (for releasing), and
  // writes the stage's limits.
  void Apply(double cap_share, double release_share, std::span<const ReplicaPowerState> replicas,
             std::vector<double>* limits_w) {
    if (cap_share >= p_.brake_at) {
      stage_ = 2;
    } else if (cap_share >= p_.cap_at) {
      stage_ = std::max(stage_, 1);
    } else if (release_share < p_.release_at) {
      stage_ = 0;
    } else if (stage_ == 2) {
      stage_ = 1;
    }
    for (const ReplicaPowerState& r : replicas) {
      const bool prot = static_cast<size_t>(r.group) < protected_.size() && protected_[static_cast<size_t>(r.group)];
      double fraction = 0;  // no limit of the controller's own
      if (stage_ == 2) fraction = p_.brake_fraction;
      if (stage_ == 1 && !prot) fraction = p_.cap_fraction;
      (*limits_w)[static_cast<size_t>(r.replica)] = fraction > 0 ? std::max(r.min_limit_w, fraction * r.tdp_w) : 0;
    }
  }

  int stage() const { return stage_; }
  const Params& params() const { return p_; }

 private:
  Params p_;
  std::vector<bool> protected_;  // by group
  int stage_ = 0;
};

}  // namespace gpufleet
