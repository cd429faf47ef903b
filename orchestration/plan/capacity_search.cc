// Bisection of each unit's single-replica capacity (see capacity_search.h).
#include "orchestration/plan/capacity_search.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

struct State {
  double lo = 0, hi = std::numeric_limits<double>::infinity(), next = 0;
  bool done = false;
};

PlanSimulator::Request ProbeOf(const PlanSimulator& sim, const CapacityUnit& u, double multiplier, int64_t seed) {
  PlanSimulator::Request r;
  r.fleet.replicas.assign(sim.candidates().size(), 0);
  r.fleet.replicas[u.candidate] = 1;
  r.rate_multiplier = multiplier;
  r.seed = seed;
  r.sets = u.sets;
  r.probe = true;
  return r;
}

// What an outcome at `m` teaches about the unit; false when the unit is out (reason in `c`).
bool Learn(const SimOutcome& r, double m, State* s, CandidateCapacity* c) {
  if (!r.ran) {  // the scenario is refused: the candidate is out
    s->done = true;
    c->feasible = false;
    c->limit = r.error;
    return false;
  }
  if (r.slos_met) {
    s->lo = std::max(s->lo, m);
  } else if (m < s->hi) {
    s->hi = m;
    c->limit = r.worst_slo;
    c->limit_ratio = r.worst_ratio;
  }
  return true;
}

}  // namespace

absl::Status SearchCapacities(PlanSimulator& sim, const std::vector<CapacityUnit>& units, const CapacitySearchOptions& o,
                              std::vector<CandidateCapacity>* out) {
  const size_t n = units.size();
  out->resize(n);
  std::vector<State> st(n);
  for (size_t i = 0; i < n; ++i) {
    State& s = st[i];
    CandidateCapacity& c = (*out)[i];
    if (!c.feasible && !c.limit.empty()) {
      s.done = true;
      continue;
    }
    // Known probes bracket the capacity (a pass above a failure, from noise, is not trusted: the bracket
    // keeps the lowest failure and the highest pass below it).
    const auto known = sim.Known(ProbeOf(sim, units[i], 1, o.seed));
    for (const auto& [m, r] : known) {
      ++c.cached_probes;
      if (!Learn(r, m, &s, &c)) break;
    }
    if (s.done) continue;
    if (s.lo >= s.hi) {
      s.lo = 0;
      for (const auto& [m, r] : known)
        if (r.slos_met && m < s.hi) s.lo = std::max(s.lo, m);
    }
    s.next = o.target_multiplier / 8;
  }
  while (true) {
    // Decide each unfinished unit's next probe, or that it is done.
    std::vector<size_t> active;
    std::vector<PlanSimulator::Request> reqs;
    for (size_t i = 0; i < n; ++i) {
      State& s = st[i];
      CandidateCapacity& c = (*out)[i];
      if (s.done) continue;
      const double cap = units[i].cap_multiplier;
      if (s.lo >= cap * (1 - 1e-12)) {
        s.done = true;
        c.saturated = true;
      } else if (s.lo > 0 && !std::isinf(s.hi)) {
        if (s.hi / s.lo <= 1 + o.tolerance) s.done = true;
        s.next = std::sqrt(s.lo * s.hi);
      } else if (s.lo > 0) {
        s.next = std::min(cap, s.lo * 2);
      } else if (!std::isinf(s.hi)) {
        s.next = s.hi / 4;
        if (s.next < o.target_multiplier * o.lowest_share) {
          s.done = true;
          c.feasible = false;
          c.limit = absl::StrFormat("misses %s (%.2fx its target) even at %.3g%% of the load", c.limit, c.limit_ratio,
                                    100 * s.hi / o.target_multiplier);
          continue;
        }
      }
      if (!s.done && (sim.budget_used() + static_cast<int64_t>(reqs.size()) >= o.max_simulations || sim.out_of_time())) {
        s.done = true;  // out of budget or time: keep what is known
        if (c.limit.empty()) c.limit = sim.out_of_time() ? "search time spent (search.time_limit_s)" : "search budget spent (search.max_simulations)";
      }
      if (s.done) {
        c.feasible = s.lo > 0;
        c.max_multiplier = std::min(s.lo, cap);
        continue;
      }
      active.push_back(i);
      reqs.push_back(ProbeOf(sim, units[i], s.next, o.seed));
    }
    if (active.empty()) break;
    GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> res, sim.Run(reqs));
    for (size_t k = 0; k < active.size(); ++k) {
      ++(*out)[active[k]].probes;
      Learn(res[k], reqs[k].rate_multiplier, &st[active[k]], &(*out)[active[k]]);
    }
  }
  return absl::OkStatus();
}

}  // namespace gpufleet
