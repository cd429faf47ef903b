// The planner's search, integer programs, verification and repair (see fleet_planner.h).
#include "orchestration/plan/fleet_planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

// A bucket's search runs up to this multiple of the load the fleet must carry: a small bucket's replica
// is rarely full, and the program needs to know how much of it one bucket takes.
constexpr double kBucketHeadroom = 4;

// A proposal, or a repair, that costs more than this multiple of a fleet already verified is not pursued:
// pruning rarely takes back more than a third of a program's fleet, and verifying a hopeless fleet of
// slow GPUs is most of a plan's time.
constexpr double kCostBoundFactor = 2;

// The capacities the program reads: per candidate on the real mix, and per candidate and bucket.
struct Capacities {
  std::vector<CandidateCapacity> mix;
  std::vector<std::vector<CandidateCapacity>> bucket;  // [candidate][bucket index into `buckets`]
};

// A fleet the integer program proposes, and how its runs route requests.
struct Proposal {
  std::string label;
  Fleet fleet;
  double cost = 0;
  std::string status;
  double gap = 0;
  std::vector<size_t> allowed;  // the candidates repair may add (those that receive traffic)
  std::function<std::vector<std::string>(const Fleet&)> sets_for;
};

// A verified fleet's figure of merit under the plan's objective, lower is better (mean over its seeds): the
// objectives agree at a fixed load up to the fleets' small differences in throughput and goodput.
double Score(PlanObjective objective, const VerifiedFleet& v) {
  double sum = 0;
  for (const SimOutcome& o : v.seeds) {
    switch (objective) {
      case PlanObjective::kCostPerHour: sum += o.cost_usd_per_hour; break;
      case PlanObjective::kCostPerMtok: sum += o.cost_usd_per_mtok; break;
      case PlanObjective::kGoodputPerDollar: sum -= o.cost_usd_per_hour > 0 ? o.goodput_rps / o.cost_usd_per_hour : 0; break;
    }
  }
  return v.seeds.empty() ? INFINITY : sum / static_cast<double>(v.seeds.size());
}

// Whether `v` is found and better than `than` (or `than` is not found).
bool Better(PlanObjective objective, const VerifiedFleet& v, const VerifiedFleet& than) {
  if (!v.found) return false;
  if (!than.found) return true;
  const double a = Score(objective, v), b = Score(objective, than);
  return a < b - 1e-9 * std::max(1.0, std::abs(b));
}

std::string Describe(const Fleet& f, const std::vector<PlanCandidate>& cands) {
  std::string out;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (f.replicas[i] == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : " + ", f.replicas[i], " x ", cands[i].Name());
  }
  return out.empty() ? "(none)" : out;
}

bool AllMet(const std::vector<SimOutcome>& v) {
  if (v.empty()) return false;
  for (const SimOutcome& o : v)
    if (!o.slos_met) return false;
  return true;
}

double WorstRatio(const std::vector<SimOutcome>& v) {
  double w = 0;
  for (const SimOutcome& o : v) w = std::max(w, o.ran ? o.worst_ratio : INFINITY);
  return w;
}

GpuOption OptionOf(const PlanCandidate& c, const CandidateCapacity& cap) {
  GpuOption o;
  o.name = c.Name();
  o.gpus_per_replica = c.tensor_parallel;
  o.node = NodeShape{std::max<int64_t>(cap.gpus_per_node, c.tensor_parallel), cap.node_usd_per_hour};
  return o;
}

// Availability is per GPU type, shared by every candidate of that type, but the solver's limit is per
// option: exact with one candidate per type; with several, their total may exceed it, which the
// verification then reports (and repair never adds beyond it).
void SetAvailability(const PlanSpec& spec, const std::vector<PlanCandidate>& cands, const std::vector<size_t>& allowed,
                     CapacityTable* t) {
  std::map<std::string, std::optional<int64_t>> max_gpus;
  for (const PlanGpuCandidate& g : spec.gpus) max_gpus[g.gpu] = g.max_gpus;
  for (size_t k = 0; k < allowed.size(); ++k) t->options[k].max_gpus = max_gpus[cands[allowed[k]].gpu];
}

Proposal FromSolution(const IlpSolution& s, const std::vector<size_t>& allowed, size_t n) {
  Proposal p;
  p.fleet.replicas.assign(n, 0);
  for (size_t k = 0; k < allowed.size(); ++k) p.fleet.replicas[allowed[k]] = s.units[k];
  p.cost = s.total_cost;
  p.status = IlpStatusName(s.status);
  p.gap = s.relative_gap;
  return p;
}

// The real mix as one bucket, cut into slices so that it can be shared between types.
absl::StatusOr<Proposal> MixProposal(const PlanSpec& spec, const std::vector<PlanCandidate>& cands, const Capacities& cap,
                                     const std::vector<size_t>& allowed, double load) {
  CapacityTable t;
  t.bucket_names = {"workload"};
  t.rates = {load};
  t.slice_factor = 16;
  std::vector<size_t> used;
  for (size_t i : allowed) {
    if (!cap.mix[i].feasible) continue;
    GpuOption o = OptionOf(cands[i], cap.mix[i]);
    o.tputs = {cap.mix[i].max_multiplier};
    t.options.push_back(std::move(o));
    used.push_back(i);
  }
  if (used.empty()) return absl::FailedPreconditionError("no candidate of these meets the SLOs on the whole workload");
  SetAvailability(spec, cands, used, &t);
  GF_ASSIGN_OR_RETURN(IlpSolution s, SolveCapacityIlp(t, {.time_limit_s = 60}));
  Proposal p = FromSolution(s, used, cands.size());
  p.allowed = used;
  return p;
}

// Mélange's program over the buckets; the runs route each bucket to the candidates the program gave it.
absl::StatusOr<Proposal> BucketProposal(const PlanSpec& spec, const std::vector<PlanCandidate>& cands,
                                        const Capacities& cap, const std::vector<PlanBucket>& buckets,
                                        const std::vector<size_t>& allowed, double load) {
  CapacityTable t;
  t.slice_factor = 4;
  for (const PlanBucket& b : buckets) {
    t.bucket_names.push_back(b.name);
    // Each bucket's capacity is a multiplier of its own share of the trace, so its rate is the load.
    t.rates.push_back(load);
  }
  std::vector<size_t> used;
  for (size_t i : allowed) {
    GpuOption o = OptionOf(cands[i], cap.mix[i]);
    bool any = false;
    for (size_t b = 0; b < buckets.size(); ++b) {
      const CandidateCapacity& c = cap.bucket[i][b];
      o.tputs.push_back(c.feasible ? c.max_multiplier : 0);
      any |= c.feasible;
    }
    if (!any || cap.mix[i].gpus_per_node == 0) continue;
    t.options.push_back(std::move(o));
    used.push_back(i);
  }
  if (used.empty()) return absl::FailedPreconditionError("no candidate of these meets the SLOs on any bucket");
  for (size_t b = 0; b < buckets.size(); ++b) {
    bool served = false;
    for (const GpuOption& o : t.options) served |= o.tputs[b] > 0;
    if (!served) {
      return absl::FailedPreconditionError(absl::StrCat("no candidate of these meets the SLOs on bucket ", buckets[b].name,
                                                        " (", absl::StrFormat("%.1f", 100 * buckets[b].share),
                                                        "% of the requests) at any load"));
    }
  }
  SetAvailability(spec, cands, used, &t);
  GF_ASSIGN_OR_RETURN(IlpSolution s, SolveCapacityIlp(t, {.time_limit_s = 60}));
  Proposal p = FromSolution(s, used, cands.size());
  // shares[candidate][bucket]: the part of each bucket's requests the candidate's group takes.
  std::map<size_t, std::vector<double>> shares;
  for (size_t k = 0; k < used.size(); ++k) {
    bool any = false;
    std::vector<double> row(buckets.size(), 0);
    for (size_t b = 0; b < buckets.size(); ++b) {
      row[b] = static_cast<double>(s.slices[b][k]) / static_cast<double>(t.slice_factor);
      any |= row[b] > 0;
    }
    if (any) {
      shares[used[k]] = row;
      p.allowed.push_back(used[k]);
    }
  }
  const int64_t np = static_cast<int64_t>(spec.bucket_prompt_edges.size()) + 1;
  const int64_t no = static_cast<int64_t>(spec.bucket_output_edges.size()) + 1;
  p.sets_for = [&spec, &cands, buckets, shares, np, no](const Fleet& f) {
    std::string router = "{type: size_buckets";
    if (!spec.bucket_prompt_edges.empty()) absl::StrAppend(&router, ", prompt_tokens: [", absl::StrJoin(spec.bucket_prompt_edges, ", "), "]");
    if (!spec.bucket_output_edges.empty()) absl::StrAppend(&router, ", output_tokens: [", absl::StrJoin(spec.bucket_output_edges, ", "), "]");
    absl::StrAppend(&router, ", shares: {");
    bool first = true;
    for (const auto& [i, row] : shares) {
      if (f.replicas[i] == 0) continue;
      std::vector<std::vector<double>> m(np, std::vector<double>(no, 0));
      for (size_t b = 0; b < buckets.size(); ++b) m[buckets[b].prompt_index][buckets[b].output_index] = row[b];
      std::vector<std::string> rows;
      for (const auto& r : m) rows.push_back(absl::StrCat("[", absl::StrJoin(r, ", "), "]"));
      absl::StrAppend(&router, first ? "" : ", ", cands[i].GroupName(), ": [", absl::StrJoin(rows, ", "), "]");
      first = false;
    }
    absl::StrAppend(&router, "}}");
    return std::vector<std::string>{"router=" + router};
  };
  return p;
}

class Verifier {
 public:
  Verifier(const PlanSpec& spec, PlanSimulator& sim, std::vector<int64_t> seeds, double load,
           std::function<std::vector<std::string>(const Fleet&)> sets_for, double cost_cap = INFINITY)
      : spec_(spec), sim_(sim), seeds_(std::move(seeds)), load_(load), sets_for_(std::move(sets_for)), cost_cap_(cost_cap) {}

  PlanSimulator::Request RequestOf(const Fleet& f, int64_t seed, bool record) const {
    PlanSimulator::Request r;
    r.fleet = f;
    r.rate_multiplier = load_;
    r.seed = seed;
    r.record = record;
    if (sets_for_) r.sets = sets_for_(f);
    return r;
  }

  absl::StatusOr<std::vector<SimOutcome>> AllSeeds(const Fleet& f) {
    std::vector<PlanSimulator::Request> r;
    for (int64_t s : seeds_) r.push_back(RequestOf(f, s, /*record=*/true));
    return sim_.Run(r);
  }

  // The GPU type whose `max_gpus` `f` exceeds (its candidates together), or "".
  std::string OverAvailability(const Fleet& f) const {
    for (const PlanGpuCandidate& g : spec_.gpus) {
      if (!g.max_gpus) continue;
      int64_t gpus = 0;
      for (size_t i = 0; i < f.replicas.size(); ++i)
        if (sim_.candidates()[i].gpu == g.gpu) gpus += f.replicas[i] * sim_.candidates()[i].tensor_parallel;
      if (gpus > *g.max_gpus) return absl::StrFormat("%s (%d GPUs, max_gpus %d)", g.gpu, gpus, *g.max_gpus);
    }
    return "";
  }

  absl::Status Run(const Fleet& start, const std::vector<size_t>& allowed, VerifiedFleet* v) {
    const auto& cands = sim_.candidates();
    Fleet f = start;
    if (const std::string over = OverAvailability(f); !over.empty()) {
      // The program bounds each candidate alone; candidates of one type can exceed their shared limit.
      v->why_not = "the integer program's fleet exceeds the availability of " + over;
      v->fleet = f;
      return absl::OkStatus();
    }
    GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> now, AllSeeds(f));
    v->log.push_back(absl::StrFormat("verify %s: %s (worst %s at %.2fx its target)", Describe(f, cands),
                                     AllMet(now) ? "meets the SLOs" : "misses", now.front().worst_slo,
                                     now.front().worst_ratio));
    // Repair: add the replica whose addition gains the most SLO margin per dollar (or meets the SLOs
    // cheapest), until every seed meets them.
    int64_t step = 0;
    for (; !AllMet(now) && step < spec_.max_repairs && !sim_.out_of_time(); ++step) {
      if (now.front().ran && now.front().cost_usd_per_hour > cost_cap_) {
        v->why_not = absl::StrFormat("abandoned at $%.2f/h, over %gx a fleet already verified", now.front().cost_usd_per_hour,
                                     kCostBoundFactor);
        v->fleet = f;
        v->seeds = now;
        return absl::OkStatus();
      }
      std::vector<PlanSimulator::Request> trials;
      std::vector<size_t> added;  // the candidate each trial adds
      for (size_t i : allowed) {
        Fleet g = f;
        ++g.replicas[i];
        if (!OverAvailability(g).empty()) continue;
        trials.push_back(RequestOf(g, seeds_.front(), false));
        added.push_back(i);
      }
      if (trials.empty()) break;  // every addition exceeds availability
      GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> res, sim_.Run(trials));
      const double before = WorstRatio(now);
      const double cost_before = now.front().cost_usd_per_hour;
      int best = -1;
      double best_score = -INFINITY;
      for (size_t k = 0; k < res.size(); ++k) {
        if (!res[k].ran) continue;
        const double dcost = std::max(1e-9, res[k].cost_usd_per_hour - cost_before);
        // Meeting the SLOs beats any partial gain; among those, the cheapest.
        const double score = res[k].slos_met ? 1e12 - res[k].cost_usd_per_hour
                                             : (std::min(before, 100.0) - std::min(res[k].worst_ratio, 100.0)) / dcost;
        if (score > best_score) {
          best_score = score;
          best = static_cast<int>(k);
        }
      }
      if (best < 0) return absl::OkStatus();
      f = trials[best].fleet;
      GF_ASSIGN_OR_RETURN(now, AllSeeds(f));
      v->log.push_back(absl::StrFormat("repair: add 1 x %s -> %s: %s (worst %s at %.2fx)", cands[added[best]].Name(),
                                       Describe(f, cands), AllMet(now) ? "meets the SLOs" : "misses",
                                       now.front().worst_slo, now.front().worst_ratio));
    }
    if (!AllMet(now)) {
      const bool room = std::any_of(allowed.begin(), allowed.end(), [&](size_t i) {
        Fleet g = f;
        ++g.replicas[i];
        return OverAvailability(g).empty();
      });
      v->why_not = !room                     ? "the SLOs still fail, and every replica more would exceed the GPUs' availability (max_gpus)"
                   : step < spec_.max_repairs ? "the SLOs still fail when the search's time ran out (search.time_limit_s)"
                                              : absl::StrCat("the SLOs still fail after ", spec_.max_repairs, " repairs (search.max_repairs)");
      v->fleet = f;
      v->seeds = now;
      return absl::OkStatus();
    }
    GF_RETURN_IF_ERROR(Prune(allowed, &f, &now, v));
    GF_ASSIGN_OR_RETURN(const bool swapped, Swap(allowed, &f, &now, v));
    if (swapped) GF_RETURN_IF_ERROR(Prune(allowed, &f, &now, v));
    v->found = true;
    v->fleet = f;
    v->seeds = now;
    if (sets_for_) v->sets = sets_for_(f);
    return absl::OkStatus();
  }

 private:
  // Runs the trial fleets (first seed); the cheapest that meets the SLOs below `below_cost` and then holds
  // with every seed becomes *f, its runs *now. Its index into `trials`, or -1 when none holds.
  absl::StatusOr<int> CheapestThatHolds(const std::vector<PlanSimulator::Request>& trials, double below_cost, Fleet* f,
                                        std::vector<SimOutcome>* now) {
    GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> res, sim_.Run(trials));
    std::vector<size_t> order;
    for (size_t k = 0; k < res.size(); ++k)
      if (res[k].slos_met && res[k].cost_usd_per_hour < below_cost) order.push_back(k);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return res[a].cost_usd_per_hour < res[b].cost_usd_per_hour; });
    for (size_t k : order) {
      GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> check, AllSeeds(trials[k].fleet));
      if (!AllMet(check)) continue;
      *f = trials[k].fleet;
      *now = std::move(check);
      return static_cast<int>(k);
    }
    return -1;
  }

  // Removes replicas while every seed still meets the SLOs: the removal that saves the most first, in
  // steps of a quarter of the fleet halved down to one replica (an over-provisioned fleet of a hundred
  // small replicas then shrinks in a few rounds, not a hundred).
  absl::Status Prune(const std::vector<size_t>& allowed, Fleet* f, std::vector<SimOutcome>* now, VerifiedFleet* v) {
    const auto& cands = sim_.candidates();
    int64_t step = std::max<int64_t>(1, f->total() / 4);
    while (f->total() > 1 && !sim_.out_of_time()) {
      std::vector<PlanSimulator::Request> trials;
      std::vector<std::pair<size_t, int64_t>> which;  // candidate, replicas removed
      for (size_t i : allowed) {
        const int64_t k = std::min({step, f->replicas[i], f->total() - 1});
        if (k <= 0) continue;
        Fleet g = *f;
        g.replicas[i] -= k;
        trials.push_back(RequestOf(g, seeds_.front(), false));
        which.emplace_back(i, k);
      }
      // A removal that frees GPUs in a node still paid for saves no money now, but leaves room (and power).
      GF_ASSIGN_OR_RETURN(const int k, CheapestThatHolds(trials, INFINITY, f, now));
      if (k >= 0) {
        v->log.push_back(absl::StrFormat("prune: remove %d x %s -> %s: still meets the SLOs, $%.2f/h", which[k].second,
                                         cands[which[k].first].Name(), Describe(*f, cands), now->front().cost_usd_per_hour));
      } else {
        if (step == 1) break;
        step /= 2;
      }
    }
    return absl::OkStatus();
  }

  // Replaces one replica by one of another candidate while that is cheaper and every seed still meets the
  // SLOs (the program's capacities are a bisection's lower bounds: a cheaper type may carry what it was
  // not credited with); true when a swap was made.
  absl::StatusOr<bool> Swap(const std::vector<size_t>& allowed, Fleet* f, std::vector<SimOutcome>* now, VerifiedFleet* v) {
    const auto& cands = sim_.candidates();
    bool any = false;
    for (int round = 0; round < 8 && !sim_.out_of_time(); ++round) {
      std::vector<PlanSimulator::Request> trials;
      std::vector<std::pair<size_t, size_t>> which;
      std::vector<int64_t> moved;
      for (size_t i : allowed) {
        if (f->replicas[i] == 0) continue;
        for (size_t j : allowed) {
          if (j == i) continue;
          // One replica, or all of them: nodes are bought whole, so a single swap often saves nothing
          // while the whole group's does.
          for (int64_t k : std::set<int64_t>{1, f->replicas[i]}) {
            Fleet g = *f;
            g.replicas[i] -= k;
            g.replicas[j] += k;
            if (!OverAvailability(g).empty()) continue;
            trials.push_back(RequestOf(g, seeds_.front(), false));
            which.emplace_back(i, j);
            moved.push_back(k);
          }
        }
      }
      if (trials.empty()) break;
      GF_ASSIGN_OR_RETURN(const int k, CheapestThatHolds(trials, now->front().cost_usd_per_hour - 1e-9, f, now));
      if (k < 0) break;
      v->log.push_back(absl::StrFormat("swap: %d x %s for %d x %s -> %s: still meets the SLOs, $%.2f/h", moved[k],
                                       cands[which[k].first].Name(), moved[k], cands[which[k].second].Name(),
                                       Describe(*f, cands), now->front().cost_usd_per_hour));
      any = true;
    }
    return any;
  }

  const PlanSpec& spec_;
  PlanSimulator& sim_;
  std::vector<int64_t> seeds_;
  double load_;
  std::function<std::vector<std::string>(const Fleet&)> sets_for_;
  double cost_cap_;
};

// The proposals for carrying `load` with the candidates in `allowed`, each verified; the cheapest found.
absl::Status BestFleet(const PlanSpec& spec, const PlannerOptions& options, PlanSimulator& sim, const Capacities& cap,
                       const std::vector<int64_t>& seeds, const std::vector<size_t>& allowed, double load,
                       VerifiedFleet* best, std::vector<VerifiedFleet>* all = nullptr, const Capacities* pooled = nullptr,
                       double verified_bound = INFINITY) {
  const auto& cands = sim.candidates();
  std::vector<Proposal> proposals;
  std::vector<std::string> why_not;
  const std::vector<std::string> routers = spec.routers.empty() ? std::vector<std::string>{""} : spec.routers;
  for (const std::string& router : routers) {
    auto p = MixProposal(spec, cands, cap, allowed, load);
    if (!p.ok()) {
      why_not.push_back(std::string(p.status().message()));
      break;
    }
    p->label = absl::StrCat("real mix, router ", router.empty() ? options.base_router : router);
    if (!router.empty()) p->sets_for = [router](const Fleet&) { return std::vector<std::string>{"router={type: " + router + "}"}; };
    proposals.push_back(*std::move(p));
  }
  if (pooled != nullptr) {
    auto p = MixProposal(spec, cands, *pooled, allowed, load);
    if (p.ok()) {
      p->label = absl::StrCat("real mix at fleet scale, router ", spec.routers.empty() ? options.base_router : spec.routers.front());
      if (!spec.routers.empty()) {
        const std::string router = spec.routers.front();
        p->sets_for = [router](const Fleet&) { return std::vector<std::string>{"router={type: " + router + "}"}; };
      }
      proposals.push_back(*std::move(p));
    }
  }
  if (spec.has_buckets()) {
    auto p = BucketProposal(spec, cands, cap, options.buckets, allowed, load);
    if (p.ok()) {
      p->label = "buckets, router size_buckets";
      proposals.push_back(*std::move(p));
    } else {
      why_not.push_back(absl::StrCat("buckets: ", p.status().message()));
    }
  }
  for (Proposal& p : proposals) {
    VerifiedFleet v;
    v.proposal = p.label;
    v.ilp = p.fleet;
    v.ilp_cost_usd_per_hour = p.cost;
    v.ilp_status = p.status;
    v.ilp_gap = p.gap;
    const double bound = std::min(verified_bound, best->found ? best->cost_usd_per_hour() : INFINITY);
    if (p.cost > kCostBoundFactor * bound) {
      v.fleet = p.fleet;
      v.why_not = absl::StrFormat("not verified: the program's fleet costs $%.2f/h, over %gx a fleet already verified ($%.2f/h)",
                                  p.cost, kCostBoundFactor, bound);
    } else {
      sim.SetStage(absl::StrCat("verifying ", p.label));
      Verifier verifier(spec, sim, seeds, load, p.sets_for, kCostBoundFactor * bound);
      GF_RETURN_IF_ERROR(verifier.Run(p.fleet, p.allowed, &v));
    }
    if (!v.found) why_not.push_back(absl::StrCat(p.label, ": ", v.why_not));
    if (all != nullptr) all->push_back(v);
    const bool better = Better(spec.objective, v, *best);
    if (better || (!best->found && best->ilp_status.empty())) *best = std::move(v);
  }
  if (!best->found) best->why_not = why_not.empty() ? "no fleet of the candidates met the SLOs" : absl::StrJoin(why_not, "; ");
  return absl::OkStatus();
}

absl::StatusOr<Capacities> SearchAll(const PlanSpec& spec, const PlannerOptions& options, PlanSimulator& sim,
                                     const std::vector<CandidateCapacity>& priced, double target, int64_t seed) {
  const size_t n = sim.candidates().size();
  std::vector<CapacityUnit> units;
  std::vector<CandidateCapacity> state;
  for (size_t i = 0; i < n; ++i) {
    units.push_back({i, {}, target});
    state.push_back(priced[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    for (const PlanBucket& b : options.buckets) {
      units.push_back({i, {"workload.filter=" + b.Filter()}, target * kBucketHeadroom});
      state.push_back(priced[i]);
    }
  }
  CapacitySearchOptions co;
  co.target_multiplier = target;
  co.seed = seed;
  co.tolerance = spec.tolerance;
  co.max_simulations = spec.max_simulations;
  sim.SetStage(options.buckets.empty() ? "capacity search" : "capacity search (whole workload and buckets)");
  GF_RETURN_IF_ERROR(SearchCapacities(sim, units, co, &state));
  Capacities cap;
  cap.mix.assign(state.begin(), state.begin() + static_cast<std::ptrdiff_t>(n));
  cap.bucket.assign(n, {});
  for (size_t k = n; k < units.size(); ++k) cap.bucket[units[k].candidate].push_back(state[k]);
  return cap;
}

// InvalidInput-like failure when no fleet can exist: naming the SLO that ruled out the most candidates.
absl::Status NothingFeasible(const PlanSpec& spec, const PlannerOptions& options, const Capacities& cap) {
  bool mix = false;
  for (const CandidateCapacity& c : cap.mix) mix |= c.feasible;
  if (mix) return absl::OkStatus();
  if (!options.buckets.empty()) {
    // A bucket plan may exist though no replica serves the whole mix: only if every bucket has a server.
    bool every = true;
    for (size_t b = 0; b < options.buckets.size(); ++b) {
      bool any = false;
      for (const auto& row : cap.bucket) any |= row[b].feasible;
      every &= any;
    }
    if (every) return absl::OkStatus();
  }
  std::map<std::string, int> by_slo;
  for (const CandidateCapacity& c : cap.mix) {
    std::string why = c.limit;
    if (why.rfind("misses ", 0) == 0) why = why.substr(7);
    ++by_slo[why.substr(0, why.find(" ("))];
  }
  std::string tightest;
  int most = 0;
  for (const auto& [slo, n] : by_slo)
    if (n > most) { most = n; tightest = slo; }
  (void)spec;
  return absl::FailedPreconditionError(absl::StrCat(
      "no candidate meets the SLOs at any size: ", most, " of ", cap.mix.size(), " candidates fail on ", tightest,
      "; expected looser SLOs, other GPUs or tensor-parallel degrees, or smaller max_batched_tokens"));
}

std::vector<size_t> AllCandidates(const Capacities& cap) {
  std::vector<size_t> out;
  for (size_t i = 0; i < cap.mix.size(); ++i) {
    bool any = cap.mix[i].feasible;
    for (const CandidateCapacity& c : cap.bucket[i]) any |= c.feasible;
    if (any) out.push_back(i);
  }
  return out;
}

}  // namespace

std::string PlanBucket::Filter() const {
  auto range = [](int64_t lo, int64_t hi) { return hi > 0 ? absl::StrCat("[", lo, ", ", hi, "]") : absl::StrCat("[", lo, ", .inf]"); };
  return absl::StrCat("{prompt_tokens: ", range(prompt_lo, prompt_hi), ", output_tokens: ", range(output_lo, output_hi), "}");
}

std::vector<PlanBucket> BucketsOf(const PlanSpec& spec) {
  std::vector<PlanBucket> out;
  if (!spec.has_buckets()) return out;
  auto bounds = [](const std::vector<int64_t>& edges) {
    std::vector<std::pair<int64_t, int64_t>> r;
    int64_t lo = 0;
    for (int64_t e : edges) {
      r.emplace_back(lo, e);
      lo = e;
    }
    r.emplace_back(lo, 0);
    return r;
  };
  const auto p = bounds(spec.bucket_prompt_edges), o = bounds(spec.bucket_output_edges);
  auto text = [](std::pair<int64_t, int64_t> b) {
    return b.second > 0 ? absl::StrCat("[", b.first, ", ", b.second, ")") : absl::StrCat("[", b.first, ", inf)");
  };
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t j = 0; j < o.size(); ++j) {
      PlanBucket b;
      b.prompt_lo = p[i].first;
      b.prompt_hi = p[i].second;
      b.output_lo = o[j].first;
      b.output_hi = o[j].second;
      b.prompt_index = static_cast<int64_t>(i);
      b.output_index = static_cast<int64_t>(j);
      b.name = absl::StrCat("prompt ", text(p[i]), " x output ", text(o[j]));
      out.push_back(std::move(b));
    }
  }
  return out;
}

absl::Status VerifyRepairPrune(const PlanSpec& spec, PlanSimulator& sim, const std::vector<int64_t>& seeds, double load,
                               const Fleet& start, const std::vector<size_t>& allowed, VerifiedFleet* out,
                               const std::function<std::vector<std::string>(const Fleet&)>& sets_for) {
  Verifier v(spec, sim, seeds, load, sets_for);
  return v.Run(start, allowed, out);
}

std::vector<PlanCandidate> ExpandCandidates(const PlanSpec& spec, int64_t default_max_batched_tokens) {
  std::vector<PlanCandidate> out;
  const std::vector<int64_t> mbts =
      spec.max_batched_tokens.empty() ? std::vector<int64_t>{default_max_batched_tokens} : spec.max_batched_tokens;
  for (const PlanGpuCandidate& g : spec.gpus)
    for (int64_t tp : spec.tensor_parallel)
      for (int64_t m : mbts)
        for (const std::string& s : spec.schedulers) out.push_back({g.gpu, tp, m, s, spec.max_batch_size});
  return out;
}

absl::StatusOr<PlanResult> RunPlan(const PlanSpec& spec, const PlannerOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(spec.time_limit_s));
  PlanResult result;
  result.candidates = ExpandCandidates(spec, options.default_max_batched_tokens);
  const size_t n = result.candidates.size();
  // Each candidate's replica priced (and checked to fit) without simulating it.
  std::vector<CandidateCapacity> priced(n);
  for (size_t i = 0; i < n; ++i) {
    if (!options.price_replica) break;
    auto p = options.price_replica(result.candidates[i]);
    if (!p.ok()) {
      priced[i].limit = std::string(p.status().message());
      continue;
    }
    priced[i].gpus_per_node = p->gpus_per_node;
    priced[i].node_usd_per_hour = p->node_usd_per_hour;
  }
  SimCache own_cache;
  SimCache* cache = options.cache != nullptr ? options.cache : &own_cache;
  PlanSimulatorOptions so{options.binary, options.jobs, options.prices_override, options.db, cache, options.context,
                          options.slos, {}, options.progress, deadline, options.runner};
  PlanSimulator sim(spec, result.candidates, so);
  const double top_rate = *std::max_element(spec.rates.begin(), spec.rates.end());
  const double target = top_rate * options.base_multiplier;
  const int64_t search_seed = spec.seeds.empty() ? options.base_seed : spec.seeds.front();
  const std::vector<int64_t> seeds = spec.seeds.empty() ? std::vector<int64_t>{options.base_seed} : spec.seeds;
  result.buckets = options.buckets;
  result.rps_per_multiplier = options.rps_per_multiplier;

  GF_ASSIGN_OR_RETURN(Capacities cap, SearchAll(spec, options, sim, priced, target, search_seed));
  result.capacity = cap.mix;
  result.bucket_capacity = cap.bucket;
  GF_RETURN_IF_ERROR(NothingFeasible(spec, options, cap));
  const std::vector<size_t> feasible = AllCandidates(cap);
  for (double rate : spec.rates) {
    RatePlan rp;
    rp.rate = rate;
    rp.load_multiplier = rate * options.base_multiplier;
    std::set<std::string> types;
    for (size_t i : feasible) types.insert(result.candidates[i].gpu);
    // Each type alone, the one whose program is cheapest first: the fleets verified bound the rest.
    std::vector<std::pair<double, std::string>> order;
    for (const std::string& g : types) {
      std::vector<size_t> allowed;
      for (size_t i : feasible)
        if (result.candidates[i].gpu == g) allowed.push_back(i);
      auto p = MixProposal(spec, result.candidates, cap, allowed, rp.load_multiplier);
      order.emplace_back(p.ok() ? p->cost : INFINITY, g);
    }
    std::stable_sort(order.begin(), order.end());
    double verified = INFINITY;
    std::map<std::string, VerifiedFleet> singles;
    for (const auto& [ilp_cost, g] : order) {
      std::vector<size_t> allowed;
      for (size_t i : feasible)
        if (result.candidates[i].gpu == g) allowed.push_back(i);
      VerifiedFleet v;
      GF_RETURN_IF_ERROR(BestFleet(spec, options, sim, cap, seeds, allowed, rp.load_multiplier, &v, nullptr, nullptr, verified));
      if (v.found) verified = std::min(verified, v.cost_usd_per_hour());
      singles[g] = std::move(v);
    }
    for (auto& [g, v] : singles) rp.single_type.emplace_back(g, std::move(v));
    if (spec.mixes && types.size() > 1) {
      // One replica's capacity misses what a fleet gains by pooling (a router evens out bursts across
      // replicas): a verified single-type fleet of one candidate shows what that candidate carries at
      // fleet scale, and a further proposal uses those capacities.
      Capacities pooled = cap;
      bool any_pooled = false;
      for (const auto& [g, v] : rp.single_type) {
        if (!v.found || v.fleet.total() < 2) continue;
        size_t only = 0, kinds = 0;
        for (size_t i = 0; i < v.fleet.replicas.size(); ++i)
          if (v.fleet.replicas[i] > 0) { only = i; ++kinds; }
        const double at_scale = rp.load_multiplier / static_cast<double>(v.fleet.replicas[only]);
        if (kinds == 1 && at_scale > pooled.mix[only].max_multiplier) {
          pooled.mix[only].max_multiplier = at_scale;
          any_pooled = true;
        }
      }
      GF_RETURN_IF_ERROR(BestFleet(spec, options, sim, cap, seeds, feasible, rp.load_multiplier, &rp.best, &rp.proposals,
                                   any_pooled ? &pooled : nullptr, verified));
      // A mix never has to be worse than the best single type: keep whichever verified cheaper.
      for (const auto& [g, v] : rp.single_type) {
        if (Better(spec.objective, v, rp.best)) {
          rp.best = v;
          rp.best.log.push_back("the best single-type fleet verified better (objective) than the mixed one: kept it");
        }
      }
    } else {
      for (const auto& [g, v] : rp.single_type) {
        if (Better(spec.objective, v, rp.best)) rp.best = v;
      }
    }
    if (!rp.best.found && rp.best.why_not.empty()) rp.best.why_not = "no fleet of the candidates met the SLOs";
    result.rates.push_back(std::move(rp));
  }
  result.simulations = sim.simulations();
  result.cache_hits = sim.cache_hits();

  // The frontier: the same plan under each target of one SLO, at the first rate, the cache carrying the
  // probes from one target to the next (a probe's outcome is judged against each target in turn).
  for (double t : spec.frontier_targets_s) {
    PlanSimulatorOptions fo = so;
    Slo* slo = spec.frontier_slo == "ttft" ? &fo.slos.ttft : spec.frontier_slo == "tbt" ? &fo.slos.tbt : &fo.slos.e2e;
    slo->enabled = true;
    slo->target_s = t;
    fo.slo_sets = {absl::StrFormat("slos.%s.target_s=%.9g", spec.frontier_slo, t)};
    PlanSimulator fsim(spec, result.candidates, fo);
    fsim.set_budget_used(result.simulations);
    FrontierPoint point;
    point.target_s = t;
    auto fcap = SearchAll(spec, options, fsim, priced, target, search_seed);
    if (!fcap.ok()) return fcap.status();
    const std::vector<size_t> ok = AllCandidates(*fcap);
    const double load = spec.rates.front() * options.base_multiplier;
    if (!NothingFeasible(spec, options, *fcap).ok() || ok.empty()) {
      point.fleet.why_not = "no candidate meets this target at any size";
    } else if (spec.mixes) {
      GF_RETURN_IF_ERROR(BestFleet(spec, options, fsim, *fcap, seeds, ok, load, &point.fleet));
    } else {
      std::set<std::string> types;
      for (size_t i : ok) types.insert(result.candidates[i].gpu);
      for (const std::string& g : types) {
        std::vector<size_t> allowed;
        for (size_t i : ok)
          if (result.candidates[i].gpu == g) allowed.push_back(i);
        VerifiedFleet v;
        GF_RETURN_IF_ERROR(BestFleet(spec, options, fsim, *fcap, seeds, allowed, load, &v));
        if (Better(spec.objective, v, point.fleet)) point.fleet = v;
      }
      if (!point.fleet.found) point.fleet.why_not = "no single-type fleet met this target";
    }
    result.simulations += fsim.simulations();
    result.cache_hits += fsim.cache_hits();
    result.frontier.push_back(std::move(point));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace gpufleet
