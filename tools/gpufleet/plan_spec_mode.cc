// The plan-file mode of `gpufleet plan` (see plan_spec_mode.h).
#include "tools/gpufleet/plan_spec_mode.h"

#include <unistd.h>

#include <algorithm>
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
#include "orchestration/plan/sim_cache.h"
#include "orchestration/slurm_jobs.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/gpu_profile.h"
#include "models/calibration/serving_stacks.h"
#include "models/cost_model.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/status_macros.h"
#include "tools/gpufleet/plan_report.h"
#include "traces/workload_stream.h"
#include "sim/util/atomic_file.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

// Digest of what the simulations read beyond their arguments: the base scenario's text, the catalog, the
// calibration profiles, and the workload's files. Keys the simulation cache (sim_cache.h).
absl::StatusOr<std::string> CacheContext(const PlanSpec& spec, const Scenario& base, const std::string& catalog_dir) {
  std::vector<std::string> paths = {spec.base, catalog_dir, CalibrationRoot()};
  for (const std::string& p : {base.workload.trace_path, base.workload.resample_path, base.perf_model.measured_table,
                               base.perf_model.profile_dir}) {
    if (!p.empty()) paths.push_back(p);
  }
  std::string all;
  for (const std::string& p : paths) {
    GF_ASSIGN_OR_RETURN(std::string d, MeasurementSetDigest(p));
    absl::StrAppend(&all, p, "=", d, "\n");
  }
  return all;
}

// The base workload as the simulations see it (window and request cap applied): its mean request rate per
// unit of rate multiplier, and its requests per bucket (with `buckets:`; empty buckets dropped).
struct WorkloadStats {
  double rps_per_multiplier = 0;
  std::vector<PlanBucket> buckets;
};

absl::StatusOr<WorkloadStats> MeasureWorkload(const PlanSpec& spec, const Scenario& base) {
  std::vector<PlanBucket> buckets = BucketsOf(spec);
  GF_ASSIGN_OR_RETURN(std::unique_ptr<RequestStream> stream, MakeRequestStream(base.workload, base.seed, base.horizon_s));
  auto index = [](const std::vector<int64_t>& edges, int64_t v) {
    return static_cast<int64_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
  };
  const int64_t no = static_cast<int64_t>(spec.bucket_output_edges.size()) + 1;
  int64_t total = 0;
  double last_s = 0;
  TraceRequest req;
  while (true) {
    GF_ASSIGN_OR_RETURN(bool more, stream->Next(&req));
    if (!more) break;
    ++total;
    last_s = req.arrival_s;
    if (!buckets.empty()) {
      ++buckets[index(spec.bucket_prompt_edges, req.prompt_tokens) * no + index(spec.bucket_output_edges, req.output_tokens)].requests;
    }
  }
  WorkloadStats out;
  if (last_s > 0) out.rps_per_multiplier = static_cast<double>(total) / last_s / base.workload.rate_multiplier;
  for (PlanBucket& b : buckets) {
    if (b.requests == 0) continue;  // nothing to serve: no column in the program
    b.share = static_cast<double>(b.requests) / static_cast<double>(std::max<int64_t>(1, total));
    out.buckets.push_back(std::move(b));
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
  // One serving stack for every candidate: the default rule applied per fleet would time an A10G fleet
  // under another stack than an H100 one, and the comparison would be between software, not GPUs.
  std::string stack_note = base->perf_model.serving_stack.empty()
                               ? ""
                               : absl::StrCat(base->perf_model.serving_stack, " (", base->perf_model.serving_stack_note, ")");
  if (base->perf_model.type == "calibrated" && base->perf_model.serving_stack_by_default) {
    auto stacks = LoadServingStacks(CalibrationRoot(), *catalog);
    if (!stacks.ok()) return ReportError(stacks.status());
    std::vector<std::string> gpus;
    for (const PlanGpuCandidate& g : spec->gpus) gpus.push_back(g.gpu);
    const StackChoice choice = DefaultServingStack(*stacks, gpus);
    if (choice.stack != nullptr) {
      spec->fixed.push_back(*ParseOverride("serving_stack=" + choice.stack->name, "plan"));
      stack_note = absl::StrCat(choice.stack->name, " (for every candidate: ", choice.reason, ")");
      base = LoadScenario(spec->base, *catalog, spec->fixed);
      if (!base.ok()) return ReportError(base.status());
    }
  }
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
  if (f.backend == "slurm") {
    SlurmJobsOptions so;
    so.sbatch = f.sbatch;
    so.scancel = f.scancel;
    so.binary = *self;
    so.dir = std::filesystem::absolute(f.slurm_dir.empty() ? spec->name + ".plan-slurm" : f.slurm_dir)
                 .lexically_normal()
                 .string();
    so.job_name = "gpufleet-plan-" + spec->name;
    so.partition = f.partition;
    so.max_concurrent = f.max_concurrent;
    so.db_wait_s = f.db_wait_s;
    auto runner = MakeSlurmJobRunner(so);
    if (!runner.ok()) return ReportError(runner.status());
    po.runner = *runner;
  }
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
  po.slos = base->slos;
  po.base_router = base->router.type;
  const std::string catalog_dir = f.catalog.empty() ? Catalog::DefaultDir() : f.catalog;
  auto context = CacheContext(*spec, *base, catalog_dir);
  if (!context.ok()) return ReportError(context.status());
  po.context = *context;
  auto stats = MeasureWorkload(*spec, *base);
  if (!stats.ok()) return ReportError(stats.status());
  po.buckets = stats->buckets;
  po.rps_per_multiplier = stats->rps_per_multiplier;
  po.price_replica = [&](const PlanCandidate& c) -> absl::StatusOr<ReplicaPrice> {
    std::vector<ScenarioOverride> o = spec->fixed;
    std::vector<std::string> sets = {"cluster=auto", "deployment=" + DeploymentOf(Fleet{{1}}, {c})};
    if (!po.prices_override.empty()) sets.push_back("prices=" + po.prices_override);
    for (const std::string& kv : sets) {
      GF_ASSIGN_OR_RETURN(ScenarioOverride x, ParseOverride(kv, "plan"));
      o.push_back(std::move(x));
    }
    GF_ASSIGN_OR_RETURN(Scenario sc, LoadScenario(spec->base, *catalog, o));
    ReplicaPrice p;
    for (const NodeGroup& g : sc.cluster) p.gpus_per_node += static_cast<int64_t>(g.count) * g.node->gpus_per_node;
    p.node_usd_per_hour = PriceFleet(sc.cluster, *catalog, sc.prices).usd_per_hour;
    return p;
  };
  SimCache cache;
  const std::string cache_path = !f.cache.empty() ? f.cache : f.db;
  if (!cache_path.empty()) {
    if (absl::Status s = CheckRunDatabase(cache_path); !s.ok()) return ReportError(s);
    if (absl::Status s = cache.Attach(cache_path, f.db_wait_s); !s.ok()) return ReportError(s);
  }
  po.cache = &cache;
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
    PlanSimulatorOptions so;
    so.prices = po.prices_override;
    PlanSimulator sim(*spec, r.candidates, so);
    const int64_t seed = spec->seeds.empty() ? po.base_seed : spec->seeds.front();
    PlanSimulator::Request req;
    req.fleet = rp.best.fleet;
    req.rate_multiplier = rp.load_multiplier;
    req.seed = seed;
    req.sets = rp.best.sets;
    std::vector<std::string> args = sim.Args(req);
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

  nlohmann::ordered_json j = PlanJson(*spec, r);
  if (!stack_note.empty()) j["serving_stack"] = stack_note;
  if (!f.db.empty()) {
    auto id = WritePlanRows(f.db, f.db_wait_s, *spec, r, j.dump(), r.rps_per_multiplier);
    if (!id.ok()) return ReportError(id.status());
    std::fprintf(stderr, "plan %s written to %s\n", id->c_str(), f.db.c_str());
  }
  if (f.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::string out = PlanText(*spec, r);
  if (!stack_note.empty()) out.insert(out.find('\n') + 1, "serving stack " + stack_note + "\n");
  if (!f.out.empty()) out += fmt::format("\nwrote {} (the first rate's fleet, ready for gpufleet simulate)\n", f.out);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace gpufleet
