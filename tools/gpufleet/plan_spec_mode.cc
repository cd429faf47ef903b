// The plan-file mode of `gpufleet plan` (see plan_spec_mode.h).
#include "tools/gpufleet/plan_spec_mode.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/catalog.h"
#include "orchestration/child_processes.h"
#include "orchestration/plan/fleet_planner.h"
#include "orchestration/plan/plan_db.h"
#include "sim/report/sqlite_db.h"
#include "orchestration/plan/plan_spec.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/atomic_file.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

nlohmann::ordered_json FleetJson(const VerifiedFleet& v, const std::vector<PlanCandidate>& cands) {
  nlohmann::ordered_json j;
  j["found"] = v.found;
  if (!v.why_not.empty()) j["why_not"] = v.why_not;
  auto groups = [&](const Fleet& f) { return FleetGroupsJson(f, cands); };
  j["ilp"] = {{"fleet", groups(v.ilp)}, {"cost_usd_per_hour", v.ilp_cost_usd_per_hour}, {"status", v.ilp_status},
              {"gap", v.ilp_gap}};
  j["fleet"] = groups(v.fleet);
  if (!v.seeds.empty()) {
    j["cost_usd_per_hour"] = v.seeds.front().cost_usd_per_hour;
    j["gpus"] = v.seeds.front().gpus_total;
    nlohmann::ordered_json per_seed = nlohmann::ordered_json::array();
    for (const SimOutcome& o : v.seeds) {
      nlohmann::ordered_json s;
      s["seed"] = o.summary.value("seed", 0);
      s["slos_met"] = o.slos_met;
      for (const char* k : {"ttft_p50_s", "ttft_p99_s", "tbt_p50_s", "tbt_p99_s", "e2e_p99_s", "gpu_util_deployed_mean",
                            "cost_usd_per_mtok", "goodput_rps"})
        if (o.summary.contains(k)) s[k] = o.summary[k];
      per_seed.push_back(s);
    }
    j["seeds"] = per_seed;
  }
  j["log"] = v.log;
  return j;
}

std::string FleetText(const VerifiedFleet& v, const std::vector<PlanCandidate>& cands) {
  if (!v.found) return "  no fleet: " + v.why_not + "\n";
  std::string out;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (v.fleet.replicas[i] == 0) continue;
    out += fmt::format("  {:>3} x {}\n", v.fleet.replicas[i], cands[i].Name());
  }
  const SimOutcome& o = v.seeds.front();
  auto ms = [&](const char* k) { return o.summary.contains(k) ? o.summary[k].get<double>() * 1000 : NAN; };
  out += fmt::format("  ${:.2f}/h on {} GPUs | TTFT p50/p99 {:.0f}/{:.0f} ms | TBT p50/p99 {:.1f}/{:.1f} ms | util {:.0f}%"
                     " | {} seed(s), all meet the SLOs\n",
                     o.cost_usd_per_hour, o.gpus_total, ms("ttft_p50_s"), ms("ttft_p99_s"), ms("tbt_p50_s"),
                     ms("tbt_p99_s"), 100 * o.summary.value("gpu_util_deployed_mean", 0.0), v.seeds.size());
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

int RunPlanSpec(const PlanSpecFlags& f) {
  auto spec = LoadPlanSpec(f.spec);
  if (!spec.ok()) return ReportError(spec.status());
  auto catalog = Catalog::LoadFromDir(f.catalog.empty() ? Catalog::DefaultDir() : f.catalog);
  if (!catalog.ok()) return ReportError(catalog.status());
  for (const PlanGpuCandidate& g : spec->gpus) {
    if (catalog->FindGpu(g.gpu) == nullptr) {
      return ReportError(absl::InvalidArgumentError(absl::StrCat(f.spec, ": candidates.gpus: '", g.gpu,
                                                                 "' is not a catalog GPU; expected one of ",
                                                                 absl::StrJoin(catalog->GpuNames(), ", "))));
    }
  }
  if (!f.out.empty()) {
    if (absl::Status s = CheckOutputPath(f.out, "-o"); !s.ok()) return ReportError(s);
  }
  if (!f.db.empty()) {
    if (absl::Status s = CheckRunDatabase(f.db); !s.ok()) return ReportError(s);
  }
  auto base = LoadScenario(spec->base, *catalog, spec->fixed);
  if (!base.ok()) return ReportError(base.status());
  if (!base->slos.ttft.enabled && !base->slos.tbt.enabled && !base->slos.e2e.enabled) {
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(f.spec, ": the base scenario ", spec->base, " has no slos; expected the SLOs the fleet must meet")));
  }
  if (std::isfinite(base->horizon_s)) {
    return ReportError(absl::InvalidArgumentError(absl::StrCat(
        f.spec, ": the base scenario sets horizon_s, which would cut the workload the plan rescales; expected "
                "workload.window_s or workload.max_requests to shorten it")));
  }
  PlannerOptions po;
  auto self = SelfExecutable();
  if (!self.ok()) return ReportError(self.status());
  po.binary = *self;
  po.jobs = f.jobs;
  po.base_multiplier = base->workload.rate_multiplier;
  po.base_seed = static_cast<int64_t>(base->seed);
  po.default_max_batched_tokens = base->deployment.front().memory.max_batched_tokens;
  po.progress = isatty(STDERR_FILENO) != 0;
  po.db = f.db;
  // Candidate prices: the base's price list with the plan's per-GPU overrides.
  bool priced = false;
  std::map<std::string, double> gpu_prices = base->prices.gpu_usd_per_hour;
  for (const PlanGpuCandidate& g : spec->gpus) {
    if (g.price_usd_per_hour) {
      gpu_prices[g.gpu] = *g.price_usd_per_hour;
      priced = true;
    }
  }
  if (priced) {
    std::string p = "{gpu_usd_per_hour: {";
    bool first = true;
    for (const auto& [g, v] : gpu_prices) {
      p += fmt::format("{}{}: {}", first ? "" : ", ", g, v);
      first = false;
    }
    p += "}";
    if (!base->prices.node_usd_per_hour.empty()) {
      p += ", node_usd_per_hour: {";
      first = true;
      for (const auto& [n, v] : base->prices.node_usd_per_hour) {
        p += fmt::format("{}\"{}\": {}", first ? "" : ", ", n, v);
        first = false;
      }
      p += "}";
    }
    p += fmt::format(", energy_usd_per_kwh: {}}}", base->prices.energy_usd_per_kwh);
    po.prices_override = p;
  }
  InstallSweepSignalHandlers();
  auto result = RunPlan(*spec, po);
  if (!result.ok()) {
    const bool input = result.status().code() == absl::StatusCode::kFailedPrecondition;
    if (input) {
      std::fprintf(stderr, "gpufleet: error: %s: %s\n", f.spec.c_str(), std::string(result.status().message()).c_str());
      return 2;
    }
    return ReportError(result.status());
  }
  const PlanResult& r = *result;

  if (!f.out.empty() && r.rates.front().best.found) {
    const RatePlan& rp = r.rates.front();
    const std::vector<PlanCandidate>& c = r.candidates;
    PlanSimulator sim(*spec, c, po.binary, 1, po.prices_override);
    const int64_t seed = spec->seeds.empty() ? po.base_seed : spec->seeds.front();
    std::vector<std::string> args = sim.Args(rp.best.fleet, rp.load_multiplier, seed);
    std::vector<ScenarioOverride> overrides = spec->fixed;
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] != "--set") continue;
      const std::string& kv = args[i + 1];
      bool fixed = false;
      for (const ScenarioOverride& o : spec->fixed) fixed |= kv == o.path + "=" + o.value;
      if (fixed) continue;
      auto o = ParseOverride(kv, "plan");
      if (o.ok()) overrides.push_back(*o);
    }
    overrides.push_back(*ParseOverride(absl::StrCat("seed=", seed), "plan"));
    auto resolved = LoadScenario(spec->base, *catalog, overrides);
    if (!resolved.ok()) return ReportError(resolved.status());
    std::string text = resolved->text;
    if (!base->workload.trace_path.empty()) {
      // The file is read from its own folder: the trace path is rewritten relative to it.
      namespace fs = std::filesystem;
      const fs::path out_dir = fs::absolute(f.out).parent_path();
      YAML::Node tree = YAML::Load(text);
      tree["workload"]["trace"]["path"] = fs::relative(fs::absolute(base->workload.trace_path), out_dir).string();
      YAML::Emitter e;
      e << tree;
      text = std::string(e.c_str()) + "\n";
    }
    const std::string header = fmt::format(
        "# Written by `gpufleet plan {}`: the verified cheapest fleet at rate x{} (${:.2f}/h).\n"
        "# `gpufleet simulate` on this file reproduces the plan's verification run (seed {}).\n",
        f.spec, rp.rate, rp.best.cost_usd_per_hour(), seed);
    if (absl::Status s = WriteFileAtomically(f.out, header + text); !s.ok()) return ReportError(s);
  }

  nlohmann::ordered_json j;
  {
    j["plan"] = spec->name;
    j["objective"] = PlanObjectiveName(spec->objective);
    j["simulations"] = r.simulations;
    nlohmann::ordered_json caps = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      const CandidateCapacity& c = r.capacity[i];
      caps.push_back({{"candidate", r.candidates[i].Name()}, {"feasible", c.feasible},
                      {"max_rate_multiplier", c.max_multiplier}, {"saturated", c.saturated}, {"limit", c.limit},
                      {"gpus_per_node", c.gpus_per_node}, {"node_usd_per_hour", c.node_usd_per_hour}, {"probes", c.probes}});
    }
    j["capacity"] = caps;
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
      if (rp.best.found && std::isfinite(cheapest_single)) x["saving_vs_best_single_type"] = 1 - rp.best.cost_usd_per_hour() / cheapest_single;
      rates.push_back(x);
    }
    j["rates"] = rates;
  }
  if (!f.db.empty()) {
    auto id = WritePlanRows(f.db, f.db_wait_s, *spec, r, j.dump());
    if (!id.ok()) return ReportError(id.status());
    std::fprintf(stderr, "plan %s written to %s\n", id->c_str(), f.db.c_str());
  }
  if (f.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::string out = fmt::format("plan {} ({} candidates, {} simulations, {:.0f} s)\n\ncapacity of one replica "
                                "(largest rate multiplier within the SLOs; the fleet must carry x{:g}):\n",
                                spec->name, r.candidates.size(), r.simulations, r.seconds,
                                r.rates.back().load_multiplier);
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const CandidateCapacity& c = r.capacity[i];
    out += c.feasible ? fmt::format("  {:<44} x{:<9.4g} ${:.2f}/h per {}-GPU node{}{}\n", r.candidates[i].Name(),
                                    c.max_multiplier, c.node_usd_per_hour, c.gpus_per_node,
                                    c.saturated ? " (carries the whole load)" : ", then ",
                                    c.saturated ? "" : c.limit + " fails")
                      : fmt::format("  {:<44} out: {}\n", r.candidates[i].Name(), c.limit);
  }
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
  if (!f.out.empty()) out += fmt::format("\nwrote {} (the first rate's fleet, ready for gpufleet simulate)\n", f.out);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace gpufleet
