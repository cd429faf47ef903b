// The plan's report (see plan_report.h).
#include "tools/gpufleet/plan_report.h"

#include <cmath>

#include <fmt/format.h>

namespace gpufleet {
namespace {

// Mean and the half-width of a 95% confidence interval (Student's t) over the seeds' values of `key`.
nlohmann::ordered_json AcrossSeeds(const std::vector<SimOutcome>& seeds, const char* key) {
  std::vector<double> v;
  for (const SimOutcome& o : seeds)
    if (o.summary.contains(key) && o.summary[key].is_number()) v.push_back(o.summary[key].get<double>());
  if (v.empty()) return nullptr;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  nlohmann::ordered_json j = {{"mean", mean}};
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    // t quantiles (0.975) for 1..9 degrees of freedom, then the normal's.
    static const double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262};
    const size_t df = v.size() - 1;
    const double t = df <= 9 ? kT[df - 1] : 1.96;
    j["ci95"] = t * std::sqrt(ss / static_cast<double>(df)) / std::sqrt(static_cast<double>(v.size()));
  }
  return j;
}

constexpr const char* kSeedMetrics[] = {"ttft_p50_s", "ttft_p99_s", "tbt_p50_s", "tbt_p99_s", "e2e_p99_s",
                                        "gpu_util_deployed_mean", "cost_usd_per_mtok", "goodput_rps"};

nlohmann::ordered_json FleetJson(const VerifiedFleet& v, const std::vector<PlanCandidate>& cands) {
  nlohmann::ordered_json j;
  j["found"] = v.found;
  if (!v.why_not.empty()) j["why_not"] = v.why_not;
  j["proposal"] = v.proposal;
  auto groups = [&](const Fleet& f) { return FleetGroupsJson(f, cands); };
  j["ilp"] = {{"fleet", groups(v.ilp)}, {"cost_usd_per_hour", v.ilp_cost_usd_per_hour}, {"status", v.ilp_status},
              {"gap", v.ilp_gap}};
  j["fleet"] = groups(v.fleet);
  if (!v.sets.empty()) j["overrides"] = v.sets;
  if (!v.seeds.empty()) {
    j["cost_usd_per_hour"] = v.seeds.front().cost_usd_per_hour;
    j["gpus"] = v.seeds.front().gpus_total;
    nlohmann::ordered_json per_seed = nlohmann::ordered_json::array();
    for (const SimOutcome& o : v.seeds) {
      nlohmann::ordered_json s;
      s["seed"] = o.summary.value("seed", 0);
      s["slos_met"] = o.slos_met;
      for (const char* k : kSeedMetrics)
        if (o.summary.contains(k)) s[k] = o.summary[k];
      per_seed.push_back(s);
    }
    j["seeds"] = per_seed;
    nlohmann::ordered_json across = nlohmann::ordered_json::object();
    for (const char* k : kSeedMetrics) across[k] = AcrossSeeds(v.seeds, k);
    j["across_seeds"] = across;
  }
  j["log"] = v.log;
  return j;
}

nlohmann::ordered_json CapacityJson(const CandidateCapacity& c) {
  return {{"feasible", c.feasible}, {"max_rate_multiplier", c.max_multiplier}, {"saturated", c.saturated},
          {"limit", c.limit}, {"probes", c.probes}, {"cached_probes", c.cached_probes}};
}

std::string FleetText(const VerifiedFleet& v, const std::vector<PlanCandidate>& cands) {
  if (!v.found) return "  no fleet: " + v.why_not + "\n";
  std::string out;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (v.fleet.replicas[i] == 0) continue;
    out += fmt::format("  {:>3} x {}\n", v.fleet.replicas[i], cands[i].Name());
  }
  const SimOutcome& o = v.seeds.front();
  auto ms = [&](const char* k) {
    const nlohmann::ordered_json a = AcrossSeeds(v.seeds, k);
    if (a.is_null()) return std::string("-");
    return a.contains("ci95") ? fmt::format("{:.0f}±{:.0f}", a["mean"].get<double>() * 1000, a["ci95"].get<double>() * 1000)
                              : fmt::format("{:.0f}", a["mean"].get<double>() * 1000);
  };
  out += fmt::format("  ${:.2f}/h on {} GPUs | TTFT p50/p99 {}/{} ms | TBT p50/p99 {}/{} ms | util {:.0f}% | {} seed(s){}, "
                     "all meet the SLOs\n",
                     o.cost_usd_per_hour, o.gpus_total, ms("ttft_p50_s"), ms("ttft_p99_s"), ms("tbt_p50_s"),
                     ms("tbt_p99_s"), 100 * o.summary.value("gpu_util_deployed_mean", 0.0), v.seeds.size(),
                     v.seeds.size() > 1 ? " (mean ± 95% CI)" : "");
  out += fmt::format("  from: {}\n", v.proposal);
  if (v.ilp.replicas != v.fleet.replicas) {
    std::string ilp;
    for (size_t i = 0; i < cands.size(); ++i)
      if (v.ilp.replicas[i] > 0) ilp += fmt::format("{}{} x {}", ilp.empty() ? "" : " + ", v.ilp.replicas[i], cands[i].Name());
    out += fmt::format("  the integer program proposed {} (${:.2f}/h); verification changed it:\n", ilp,
                       v.ilp_cost_usd_per_hour);
    for (const std::string& l : v.log) out += "    " + l + "\n";
  }
  return out;
}

}  // namespace

nlohmann::ordered_json PlanJson(const PlanSpec& spec, const PlanResult& r) {
  nlohmann::ordered_json j;
  j["plan"] = spec.name;
  j["objective"] = PlanObjectiveName(spec.objective);
  j["simulations"] = r.simulations;
  j["cached_simulations"] = r.cache_hits;
  nlohmann::ordered_json caps = nlohmann::ordered_json::array();
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const CandidateCapacity& c = r.capacity[i];
    nlohmann::ordered_json x = {{"candidate", r.candidates[i].Name()}};
    x.update(CapacityJson(c));
    x["gpus_per_node"] = c.gpus_per_node;
    x["node_usd_per_hour"] = c.node_usd_per_hour;
    if (!r.buckets.empty()) {
      nlohmann::ordered_json b = nlohmann::ordered_json::array();
      for (const CandidateCapacity& bc : r.bucket_capacity[i]) b.push_back(CapacityJson(bc));
      x["buckets"] = b;
    }
    caps.push_back(x);
  }
  j["capacity"] = caps;
  if (!r.buckets.empty()) {
    nlohmann::ordered_json b = nlohmann::ordered_json::array();
    for (const PlanBucket& k : r.buckets) b.push_back({{"bucket", k.name}, {"requests", k.requests}, {"share", k.share}});
    j["buckets"] = b;
  }
  nlohmann::ordered_json rates = nlohmann::ordered_json::array();
  for (const RatePlan& rp : r.rates) {
    nlohmann::ordered_json x;
    x["rate"] = rp.rate;
    x["rate_multiplier"] = rp.load_multiplier;
    x["best"] = FleetJson(rp.best, r.candidates);
    nlohmann::ordered_json singles = nlohmann::ordered_json::object();
    double cheapest_single = INFINITY;
    for (const auto& [g, v] : rp.single_type) {
      singles[g] = FleetJson(v, r.candidates);
      if (v.found) cheapest_single = std::min(cheapest_single, v.cost_usd_per_hour());
    }
    x["single_type"] = singles;
    nlohmann::ordered_json props = nlohmann::ordered_json::array();
    for (const VerifiedFleet& v : rp.proposals) {
      nlohmann::ordered_json y = {{"proposal", v.proposal}, {"ilp_cost_usd_per_hour", v.ilp_cost_usd_per_hour},
                                  {"found", v.found}};
      int repairs = 0, prunes = 0, swaps = 0;
      for (const std::string& l : v.log) {
        repairs += l.rfind("repair:", 0) == 0;
        prunes += l.rfind("prune:", 0) == 0;
        swaps += l.rfind("swap:", 0) == 0;
      }
      y["verified_as_proposed"] = v.found && repairs + prunes + swaps == 0;
      y["replicas_added"] = repairs;
      y["replicas_removed"] = prunes;
      y["swaps"] = swaps;
      if (v.found) y["cost_usd_per_hour"] = v.cost_usd_per_hour();
      if (!v.found) y["why_not"] = v.why_not;
      y["ilp_fleet"] = FleetGroupsJson(v.ilp, r.candidates);
      y["fleet"] = FleetGroupsJson(v.fleet, r.candidates);
      props.push_back(y);
    }
    x["mixed_proposals"] = props;
    if (rp.best.found && std::isfinite(cheapest_single)) x["saving_vs_best_single_type"] = 1 - rp.best.cost_usd_per_hour() / cheapest_single;
    rates.push_back(x);
  }
  j["rates"] = rates;
  if (!r.frontier.empty()) {
    nlohmann::ordered_json f = nlohmann::ordered_json::array();
    for (const FrontierPoint& p : r.frontier) {
      nlohmann::ordered_json x = {{"target_s", p.target_s}};
      x.update(FleetJson(p.fleet, r.candidates));
      f.push_back(x);
    }
    j["frontier"] = {{"slo", spec.frontier_slo}, {"rate", spec.rates.front()}, {"points", f}};
  }
  return j;
}

std::string PlanText(const PlanSpec& spec, const PlanResult& r) {
  std::string out = fmt::format("plan {} ({} candidates, {} simulations, {} from the cache, {:.0f} s)\n", spec.name,
                                r.candidates.size(), r.simulations, r.cache_hits, r.seconds);
  if (!r.buckets.empty()) {
    out += "\nrequest-size buckets (share of the workload's requests):\n";
    for (const PlanBucket& b : r.buckets) out += fmt::format("  {:<40} {:>6.1f}%  ({} requests)\n", b.name, 100 * b.share, b.requests);
  }
  out += fmt::format("\ncapacity of one replica (largest rate multiplier within the SLOs; the fleet must carry x{:g}):\n",
                     r.rates.back().load_multiplier);
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const CandidateCapacity& c = r.capacity[i];
    out += c.feasible ? fmt::format("  {:<44} x{:<9.4g} ${:.2f}/h per {}-GPU node{}{}\n", r.candidates[i].Name(),
                                    c.max_multiplier, c.node_usd_per_hour, c.gpus_per_node,
                                    c.saturated ? " (carries the whole load)" : ", then ",
                                    c.saturated ? "" : c.limit + " fails")
                      : fmt::format("  {:<44} out: {}\n", r.candidates[i].Name(), c.limit);
    if (!r.buckets.empty() && c.gpus_per_node > 0) {
      std::string row;
      for (const CandidateCapacity& bc : r.bucket_capacity[i])
        row += bc.feasible ? fmt::format(" x{:<7.3g}{}", bc.max_multiplier, bc.saturated ? "+" : " ") : "    -    ";
      out += "      per bucket:" + row + "\n";
    }
  }
  if (!r.buckets.empty()) out += "  (per bucket: multiplier of that bucket's own traffic; + = at least, the search's cap)\n";
  for (const RatePlan& rp : r.rates) {
    out += fmt::format("\nrate x{:g} (workload.rate_multiplier {:g}): cheapest verified fleet\n", rp.rate, rp.load_multiplier);
    out += FleetText(rp.best, r.candidates);
    double cheapest = INFINITY;
    std::string which;
    for (const auto& [g, v] : rp.single_type) {
      out += fmt::format(" {} only: {}", g, v.found ? fmt::format("${:.2f}/h\n", v.cost_usd_per_hour()) : v.why_not + "\n");
      if (v.found && v.cost_usd_per_hour() < cheapest) {
        cheapest = v.cost_usd_per_hour();
        which = g;
      }
    }
    if (rp.best.found && std::isfinite(cheapest)) {
      out += fmt::format(" saving against the best single type ({}): {:.1f}%\n", which,
                         100 * (1 - rp.best.cost_usd_per_hour() / cheapest));
    }
  }
  if (!r.frontier.empty()) {
    out += fmt::format("\ncost versus the {} target (rate x{:g}): the cheapest verified fleet per target\n",
                       spec.frontier_slo, spec.rates.front());
    for (const FrontierPoint& p : r.frontier) {
      if (!p.fleet.found) {
        out += fmt::format("  {} <= {:g} s: no fleet ({})\n", spec.frontier_slo, p.target_s, p.fleet.why_not);
        continue;
      }
      std::string fleet;
      for (size_t i = 0; i < r.candidates.size(); ++i)
        if (p.fleet.fleet.replicas[i] > 0) fleet += fmt::format("{}{} x {}", fleet.empty() ? "" : " + ", p.fleet.fleet.replicas[i], r.candidates[i].Name());
      out += fmt::format("  {} <= {:g} s: ${:.2f}/h  {}\n", spec.frontier_slo, p.target_s, p.fleet.cost_usd_per_hour(), fleet);
    }
  }
  return out;
}

}  // namespace gpufleet
