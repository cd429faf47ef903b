// Heterogeneity aware: Mélange's insight applied per request at run time. Each deployment group (a GPU
// type, a TP degree) is a different price for a request of a given size: a short prompt costs little
// anywhere and is cheapest on a cheap GPU, a long one may be cheaper on a fast GPU that finishes it
// sooner. For every group the router takes its least-backlogged replica (backlog in seconds of that
// replica's own work, ReplicaProfile::BacklogSeconds: the load weighed by capacity) and predicts
//   - the request's time to first token there (ReplicaProfile::PredictTtft),
//   - the gap between tokens the replica's running requests would see while it is prefilled (PredictTbt),
//   - its cost there: the replica's price x the seconds of its time the request takes (its prefill plus
//     its output tokens at the replica's per-sequence decode cost);
// then sends it to the cheapest group whose predictions meet the TTFT and TBT targets x `headroom`, or,
// when none does, to the earliest predicted first token. Targets: `ttft_s` and `tbt_s`, default (-1) the
// scenario's SLOs (without a TBT target, TBT is not checked). Without a TTFT target there is no price of
// lateness to weigh cost against, and the rule becomes capacity-weighted balancing: the replica where the
// request would finish first (backlog + its own work). A scan of the replicas per arrival (O(R)). The output length is the trace's true one (an oracle, as Mélange assumes).
#include <limits>

#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class HeterogeneityAwareRouter final : public Router {
 public:
  HeterogeneityAwareRouter(double ttft_s, double tbt_s, double headroom)
      : ttft_s_(ttft_s), tbt_s_(tbt_s), headroom_(headroom) {}

  absl::Status Bind(const PolicyBinding& binding) override {
    if (ttft_s_ < 0) ttft_s_ = binding.ttft_slo_s;
    if (tbt_s_ < 0) tbt_s_ = binding.tbt_slo_s;
    return absl::OkStatus();
  }

  size_t Route(const TraceRequest& request, const FleetView& fleet) override {
    // Least-backlogged replica of each group.
    best_in_group_.assign(static_cast<size_t>(fleet.num_groups()), -1);
    backlog_.assign(static_cast<size_t>(fleet.num_groups()), 0.0);
    for (size_t r = 0; r < fleet.size(); ++r) {
      const ReplicaLoad& l = fleet.load(r);
      const double b = fleet.profile(r).BacklogSeconds(l);
      int& best = best_in_group_[static_cast<size_t>(l.group)];
      if (best < 0 || b < backlog_[static_cast<size_t>(l.group)]) {
        best = static_cast<int>(r);
        backlog_[static_cast<size_t>(l.group)] = b;
      }
    }
    if (ttft_s_ <= 0) {
      int first = -1;
      double first_done = std::numeric_limits<double>::infinity();
      for (int r : best_in_group_) {
        if (r < 0) continue;
        const ReplicaProfile& p = fleet.profile(static_cast<size_t>(r));
        const double done = backlog_[static_cast<size_t>(fleet.load(static_cast<size_t>(r)).group)] +
                            p.PrefillSeconds(request.prompt_tokens) + request.output_tokens * p.decode_per_token_s;
        if (done < first_done) {
          first = r;
          first_done = done;
        }
      }
      return static_cast<size_t>(first);
    }
    int cheapest = -1, fastest = -1;
    double cheapest_usd = std::numeric_limits<double>::infinity();
    double fastest_ttft = std::numeric_limits<double>::infinity();
    const double target = ttft_s_ * headroom_;
    const double tbt_target = tbt_s_ > 0 ? tbt_s_ * headroom_ : std::numeric_limits<double>::infinity();
    for (int r : best_in_group_) {
      if (r < 0) continue;
      const ReplicaProfile& p = fleet.profile(static_cast<size_t>(r));
      const double ttft = p.PredictTtft(fleet.load(static_cast<size_t>(r)), request.prompt_tokens, request.arrival_s);
      const double busy_s = p.PrefillSeconds(request.prompt_tokens) + request.output_tokens * p.decode_per_token_s;
      const double usd = p.usd_per_s * busy_s;
      if (ttft < fastest_ttft) {
        fastest = r;
        fastest_ttft = ttft;
      }
      const bool meets = ttft <= target && p.PredictTbt(fleet.load(static_cast<size_t>(r)), request.prompt_tokens) <= tbt_target;
      if (meets && usd < cheapest_usd) {
        cheapest = r;
        cheapest_usd = usd;
      }
    }
    return static_cast<size_t>(cheapest >= 0 ? cheapest : fastest);
  }

 private:
  double ttft_s_, tbt_s_, headroom_;
  std::vector<int> best_in_group_;
  std::vector<double> backlog_;
};

absl::StatusOr<std::unique_ptr<Router>> MakeHeterogeneityAware(MapReader& m) {
  double ttft_s = -1, tbt_s = -1, headroom = 0.8;
  if (auto st = m.Opt("ttft_s", &ttft_s, 0, 1e6); !st.ok()) return st;
  if (auto st = m.Opt("tbt_s", &tbt_s, 0, 1e6); !st.ok()) return st;
  if (auto st = m.Opt("headroom", &headroom, 0.01, 10); !st.ok()) return st;
  return std::make_unique<HeterogeneityAwareRouter>(ttft_s, tbt_s, headroom);
}

GF_REGISTER_POLICY(Router, "heterogeneity_aware",
                   "per request, the cheapest GPU group whose least-backlogged replica meets the TTFT and TBT targets "
                   "(perf-model predictions), else the earliest first token (params: ttft_s, tbt_s, headroom; "
                   "-1: the scenario's SLO)",
                   MakeHeterogeneityAware);

}  // namespace
}  // namespace gpufleet
