// Bisection of each candidate's single-replica capacity (see capacity_search.h).
#include "orchestration/plan/capacity_search.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"

namespace gpufleet {

absl::StatusOr<std::vector<CandidateCapacity>> SearchCapacities(PlanSimulator& sim, const CapacitySearchOptions& o) {
  const size_t n = sim.candidates().size();
  struct State {
    double lo = 0, hi = std::numeric_limits<double>::infinity(), next = 0;
    bool done = false;
  };
  std::vector<State> st(n);
  std::vector<CandidateCapacity> out(n);
  for (State& s : st) s.next = o.target_multiplier / 8;
  while (true) {
    std::vector<size_t> active;
    std::vector<PlanSimulator::Request> reqs;
    for (size_t i = 0; i < n; ++i) {
      if (st[i].done) continue;
      if (sim.simulations() + static_cast<int64_t>(reqs.size()) >= o.max_simulations) {
        st[i].done = true;  // out of budget: keep what is known
        out[i].feasible = st[i].lo > 0;
        out[i].max_multiplier = st[i].lo;
        if (out[i].limit.empty()) out[i].limit = "search budget spent";
        continue;
      }
      Fleet f;
      f.replicas.assign(n, 0);
      f.replicas[i] = 1;
      active.push_back(i);
      reqs.push_back({f, st[i].next, o.seed});
    }
    if (active.empty()) break;
    GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> res, sim.Run(reqs));
    for (size_t k = 0; k < active.size(); ++k) {
      const size_t i = active[k];
      State& s = st[i];
      CandidateCapacity& c = out[i];
      const SimOutcome& r = res[k];
      ++c.probes;
      if (!r.ran) {  // the replica does not fit its GPUs, or the scenario is refused: the candidate is out
        s.done = true;
        c.feasible = false;
        c.limit = r.error;
        continue;
      }
      c.gpus_per_node = r.gpus_total;
      c.node_usd_per_hour = r.hardware_usd_per_hour;
      if (r.slos_met) {
        s.lo = s.next;
        if (s.lo >= o.target_multiplier * (1 - 1e-12)) {
          s.done = true;
          c.saturated = true;
        } else if (std::isinf(s.hi)) {
          s.next = std::min(o.target_multiplier, s.next * 2);
        }
      } else {
        s.hi = s.next;
        c.limit = r.worst_slo;
        c.limit_ratio = r.worst_ratio;
        if (s.lo == 0) {
          s.next /= 4;
          if (s.next < o.target_multiplier * o.lowest_share) {
            s.done = true;
            c.feasible = false;
            c.limit = absl::StrFormat("misses %s (%.2fx its target) even at %.3g%% of the load", r.worst_slo,
                                      r.worst_ratio, 100 * s.hi / o.target_multiplier);
            continue;
          }
        }
      }
      if (!s.done && s.lo > 0 && !std::isinf(s.hi)) {
        if (s.hi / s.lo <= 1 + o.tolerance) {
          s.done = true;
        } else {
          s.next = std::sqrt(s.lo * s.hi);
        }
      }
      if (s.done && s.lo > 0) {
        c.feasible = true;
        c.max_multiplier = s.lo;
      }
    }
  }
  return out;
}

}  // namespace gpufleet
