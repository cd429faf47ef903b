// The planner's search, integer program, verification and repair (see fleet_planner.h).
#include "orchestration/plan/fleet_planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

// The integer program's answer for carrying `load` with the feasible candidates `allowed` (by index).
struct IlpFleet {
  Fleet fleet;
  double cost = 0;
  std::string status;
  double gap = 0;
};

absl::StatusOr<IlpFleet> SolveFor(const PlanSpec& spec, const std::vector<PlanCandidate>& cands,
                                  const std::vector<CandidateCapacity>& cap, const std::vector<size_t>& allowed,
                                  double load) {
  CapacityTable t;
  t.bucket_names = {"workload"};
  t.rates = {load};
  // One bucket (the workload's real mix) cut into slices so that it can be shared between types.
  t.slice_factor = 16;
  std::map<std::string, std::optional<int64_t>> max_gpus;
  for (const PlanGpuCandidate& g : spec.gpus) max_gpus[g.gpu] = g.max_gpus;
  for (size_t i : allowed) {
    GpuOption o;
    o.name = cands[i].Name();
    o.gpus_per_replica = cands[i].tensor_parallel;
    o.node = NodeShape{std::max<int64_t>(cap[i].gpus_per_node, cands[i].tensor_parallel), cap[i].node_usd_per_hour};
    o.tputs = {cap[i].max_multiplier};
    t.options.push_back(std::move(o));
  }
  // Availability is per GPU type, shared by every candidate of that type, but the solver's limit is per
  // option: exact with one candidate per type; with several, their total may exceed it, which the
  // verification then reports (and repair never adds beyond it).
  for (size_t k = 0; k < allowed.size(); ++k) t.options[k].max_gpus = max_gpus[cands[allowed[k]].gpu];
  IlpOptions io;
  io.time_limit_s = 60;
  GF_ASSIGN_OR_RETURN(IlpSolution s, SolveCapacityIlp(t, io));
  IlpFleet out;
  out.fleet.replicas.assign(cands.size(), 0);
  for (size_t k = 0; k < allowed.size(); ++k) out.fleet.replicas[allowed[k]] = s.units[k];
  out.cost = s.total_cost;
  out.status = IlpStatusName(s.status);
  out.gap = s.relative_gap;
  return out;
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

class Verifier {
 public:
  Verifier(const PlanSpec& spec, PlanSimulator& sim, std::vector<int64_t> seeds, double load)
      : spec_(spec), sim_(sim), seeds_(std::move(seeds)), load_(load) {}

  absl::StatusOr<std::vector<SimOutcome>> AllSeeds(const Fleet& f) {
    std::vector<PlanSimulator::Request> r;
    for (int64_t s : seeds_) r.push_back({f, load_, s, /*record=*/true});
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

  // Verification, repair and pruning of `start`, restricted to the candidates in `allowed`.
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
    for (int64_t step = 0; !AllMet(now) && step < spec_.max_repairs; ++step) {
      std::vector<PlanSimulator::Request> trials;
      std::vector<size_t> added;  // the candidate each trial adds
      for (size_t i : allowed) {
        Fleet g = f;
        ++g.replicas[i];
        if (!OverAvailability(g).empty()) continue;
        trials.push_back({g, load_, seeds_.front()});
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
      v->why_not = OverAvailability(f).empty() && !std::all_of(allowed.begin(), allowed.end(), [&](size_t i) {
                     Fleet g = f;
                     ++g.replicas[i];
                     return !OverAvailability(g).empty();
                   })
                       ? absl::StrCat("the SLOs still fail after ", spec_.max_repairs, " repairs (search.max_repairs)")
                       : "the SLOs still fail, and every replica more would exceed the GPUs' availability (max_gpus)";
      v->fleet = f;
      v->seeds = now;
      return absl::OkStatus();
    }
    // Prune: remove the replica whose removal saves the most while every seed still meets the SLOs.
    while (f.total() > 1) {
      std::vector<PlanSimulator::Request> trials;
      std::vector<size_t> which;
      for (size_t i : allowed) {
        if (f.replicas[i] == 0) continue;
        Fleet g = f;
        --g.replicas[i];
        trials.push_back({g, load_, seeds_.front()});
        which.push_back(i);
      }
      GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> res, sim_.Run(trials));
      std::vector<size_t> order;
      for (size_t k = 0; k < res.size(); ++k)
        if (res[k].slos_met) order.push_back(k);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return res[a].cost_usd_per_hour < res[b].cost_usd_per_hour; });
      bool pruned = false;
      for (size_t k : order) {
        // A removal that frees GPUs in a node still paid for saves no money now, but leaves room (and power).
        GF_ASSIGN_OR_RETURN(std::vector<SimOutcome> check, AllSeeds(trials[k].fleet));
        if (!AllMet(check)) continue;
        f = trials[k].fleet;
        now = check;
        v->log.push_back(absl::StrFormat("prune: remove 1 x %s -> %s: still meets the SLOs, $%.2f/h",
                                         cands[which[k]].Name(), Describe(f, cands), now.front().cost_usd_per_hour));
        pruned = true;
        break;
      }
      if (!pruned) break;
    }
    v->found = true;
    v->fleet = f;
    v->seeds = now;
    return absl::OkStatus();
  }

 private:
  const PlanSpec& spec_;
  PlanSimulator& sim_;
  std::vector<int64_t> seeds_;
  double load_;
};

}  // namespace

absl::Status VerifyRepairPrune(const PlanSpec& spec, PlanSimulator& sim, const std::vector<int64_t>& seeds, double load,
                               const Fleet& start, const std::vector<size_t>& allowed, VerifiedFleet* out) {
  Verifier v(spec, sim, seeds, load);
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
  PlanResult result;
  result.candidates = ExpandCandidates(spec, options.default_max_batched_tokens);
  PlanSimulator sim(spec, result.candidates, options.binary, options.jobs, options.prices_override, options.db);
  const double top_rate = *std::max_element(spec.rates.begin(), spec.rates.end());
  CapacitySearchOptions co;
  co.target_multiplier = top_rate * options.base_multiplier;
  co.seed = spec.seeds.empty() ? options.base_seed : spec.seeds.front();
  co.tolerance = spec.tolerance;
  co.max_simulations = spec.max_simulations;
  if (options.progress) std::fprintf(stderr, "plan: capacity search over %zu candidates\n", result.candidates.size());
  GF_ASSIGN_OR_RETURN(result.capacity, SearchCapacities(sim, co));
  std::vector<size_t> feasible;
  for (size_t i = 0; i < result.capacity.size(); ++i)
    if (result.capacity[i].feasible) feasible.push_back(i);
  if (feasible.empty()) {
    // Name the SLO that ruled out the most candidates: the tightest one.
    std::map<std::string, int> by_slo;
    for (const CandidateCapacity& c : result.capacity) ++by_slo[c.limit.substr(0, c.limit.find(" ("))];
    std::string tightest;
    int most = 0;
    for (const auto& [slo, n] : by_slo)
      if (n > most) { most = n; tightest = slo; }
    return absl::FailedPreconditionError(absl::StrCat(
        "no candidate meets the SLOs at any size: ", most, " of ", result.capacity.size(), " candidates fail on ",
        tightest, "; expected looser SLOs, other GPUs or tensor-parallel degrees, or smaller max_batched_tokens"));
  }
  const std::vector<int64_t> seeds = spec.seeds.empty() ? std::vector<int64_t>{options.base_seed} : spec.seeds;
  for (double rate : spec.rates) {
    RatePlan rp;
    rp.rate = rate;
    rp.load_multiplier = rate * options.base_multiplier;
    Verifier verifier(spec, sim, seeds, rp.load_multiplier);
    auto plan_over = [&](const std::vector<size_t>& allowed, VerifiedFleet* v) -> absl::Status {
      auto ilp = SolveFor(spec, result.candidates, result.capacity, allowed, rp.load_multiplier);
      if (!ilp.ok()) {
        v->why_not = std::string(ilp.status().message());
        return absl::OkStatus();
      }
      v->ilp = ilp->fleet;
      v->ilp_cost_usd_per_hour = ilp->cost;
      v->ilp_status = ilp->status;
      v->ilp_gap = ilp->gap;
      return verifier.Run(ilp->fleet, allowed, v);
    };
    std::set<std::string> types;
    for (size_t i : feasible) types.insert(result.candidates[i].gpu);
    for (const std::string& g : types) {
      std::vector<size_t> allowed;
      for (size_t i : feasible)
        if (result.candidates[i].gpu == g) allowed.push_back(i);
      if (options.progress) std::fprintf(stderr, "plan: rate x%g, %s alone\n", rate, g.c_str());
      VerifiedFleet v;
      GF_RETURN_IF_ERROR(plan_over(allowed, &v));
      rp.single_type.emplace_back(g, std::move(v));
    }
    if (spec.mixes && types.size() > 1) {
      if (options.progress) std::fprintf(stderr, "plan: rate x%g, mixed fleet\n", rate);
      GF_RETURN_IF_ERROR(plan_over(feasible, &rp.best));
      // A mix never has to be worse than the best single type: keep whichever verified cheaper.
      for (const auto& [g, v] : rp.single_type) {
        if (v.found && (!rp.best.found || v.cost_usd_per_hour() < rp.best.cost_usd_per_hour())) {
          rp.best = v;
          rp.best.log.push_back("the best single-type fleet verified cheaper than the mixed one: kept it");
        }
      }
    } else {
      for (const auto& [g, v] : rp.single_type) {
        if (v.found && (!rp.best.found || v.cost_usd_per_hour() < rp.best.cost_usd_per_hour())) rp.best = v;
      }
    }
    if (!rp.best.found && rp.best.why_not.empty()) rp.best.why_not = "no fleet of the candidates met the SLOs";
    result.rates.push_back(std::move(rp));
  }
  result.simulations = sim.simulations();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace gpufleet
