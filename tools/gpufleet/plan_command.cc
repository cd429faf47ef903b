// `gpufleet plan`: the cheapest GPU mix for a workload (docs/planning.md). Two modes: a plan file
// (plan_spec_mode.h: capacity search by simulation, integer program, verification and repair), and
// `--melange-json FILE`, which solves Mélange's integer program straight from its tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "orchestration/plan/ilp_solver.h"
#include "orchestration/plan/melange_input.h"
#include "orchestration/slurm_backend.h"
#include "tools/gpufleet/commands.h"
#include "tools/gpufleet/plan_spec_mode.h"

namespace gpufleet {
namespace {

// Dollar figures rounded to 1e-9 so that 3 × 1.01 + 3.67 prints 6.7, not 6.700000000000001.
double Tidy(double usd) { return std::round(usd * 1e9) / 1e9; }

// Per bucket with load: the options serving it and their share of its slices, e.g. "A10G 3/4, H100 1/4".
std::string Assignment(const CapacityTable& t, const IlpSolution& s, size_t b) {
  std::vector<std::string> parts;
  for (size_t o = 0; o < t.options.size(); ++o) {
    if (s.slices[b][o] == 0) continue;
    parts.push_back(t.slice_factor == 1
                        ? t.options[o].name
                        : absl::StrFormat("%s %d/%d", t.options[o].name, s.slices[b][o], t.slice_factor));
  }
  return absl::StrJoin(parts, ", ");
}

std::string FormatTable(const std::string& source, const CapacityTable& t, const IlpSolution& s) {
  size_t width = 3, bucket_width = 0;
  for (const GpuOption& o : t.options) width = std::max(width, o.name.size());
  for (const std::string& b : t.bucket_names) bucket_width = std::max(bucket_width, b.size());
  const int w = static_cast<int>(width), bw = static_cast<int>(bucket_width);
  std::string out = absl::StrFormat("%s: %d GPU types, %d buckets, slice factor %d\n\n", source, t.options.size(),
                                    t.rates.size(), t.slice_factor);
  absl::StrAppendFormat(&out, "%-*s  %5s  %8s  %9s  %5s\n", w, "GPU", "count", "$/h each", "$/h", "util");
  for (size_t o = 0; o < t.options.size(); ++o) {
    if (s.units[o] == 0) continue;
    absl::StrAppendFormat(&out, "%-*s  %5d  %8.2f  %9.2f  %4.0f%%\n", w, t.options[o].name, s.gpus[o],
                          s.cost[o] / static_cast<double>(s.gpus[o]), s.cost[o],
                          100 * s.load[o] / static_cast<double>(s.units[o]));
  }
  absl::StrAppendFormat(&out, "%-*s  %5s  %8s  %9.2f\n\n", w, "total", "", "", Tidy(s.total_cost));
  for (size_t b = 0; b < t.rates.size(); ++b) {
    if (t.rates[b] <= 0) continue;
    absl::StrAppendFormat(&out, "bucket %-*s  %8.4g req/s -> %s\n", bw, t.bucket_names[b], t.rates[b],
                          Assignment(t, s, b));
  }
  absl::StrAppendFormat(&out, "\n%s, gap %.2f%%, solved in %.3f s\n", IlpStatusName(s.status), 100 * s.relative_gap,
                        s.solve_seconds);
  return out;
}

// No solve time: the same input gives byte-identical JSON.
std::string FormatJson(const CapacityTable& t, const IlpSolution& s) {
  nlohmann::ordered_json j;
  j["status"] = IlpStatusName(s.status);
  j["total_cost"] = Tidy(s.total_cost);
  j["best_bound"] = Tidy(s.best_bound);
  j["gap"] = s.relative_gap;
  j["counts"] = nlohmann::ordered_json::object();
  for (size_t o = 0; o < t.options.size(); ++o) j["counts"][t.options[o].name] = s.gpus[o];
  j["slice_factor"] = t.slice_factor;
  j["assignment"] = nlohmann::ordered_json::object();
  for (size_t b = 0; b < t.rates.size(); ++b) {
    if (t.rates[b] <= 0) continue;
    auto& row = j["assignment"][t.bucket_names[b]] = nlohmann::ordered_json::object();
    for (size_t o = 0; o < t.options.size(); ++o) {
      if (s.slices[b][o] > 0) row[t.options[o].name] = s.slices[b][o];
    }
  }
  return j.dump(2) + "\n";
}

}  // namespace

std::function<int()> AddPlanCommand(CLI::App& app) {
  struct Flags {
    std::string melange_json, spec, out, catalog, db, cache;
    double db_wait_s = 120;
    bool json = false;
    double time_limit_s = 60;
    int jobs = 2;
    std::string backend = "local", partition, slurm_dir;
    int max_concurrent = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("plan", "Find the cheapest GPU mix for a workload (docs/planning.md)");
  cmd->add_option("plan", f->spec, "A plan file (docs/planning.md): base scenario, candidates, rates, buckets, frontier, seeds");
  cmd->add_option("-j,--jobs", f->jobs, "Plan file: simulations to run at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("-o,--out", f->out, "Plan file: write the verified fleet as a scenario for gpufleet simulate");
  cmd->add_option("--db", f->db, "Plan file: append the plan (plans, plan_candidates, plan_capacities, plan_fleets) and its "
                              "verification runs to this SQLite database");
  cmd->add_option("--cache", f->cache, "Plan file: remember simulations in this SQLite database (default: --db's), so "
                                    "that re-planning with another rate, price or SLO target reuses them");
  cmd->add_option("--db-wait", f->db_wait_s, "Seconds to retry a locked database")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--catalog", f->catalog, "Catalog directory (default: the built-in models/catalog)");
  cmd->add_option("--melange-json", f->melange_json,
                  "Solve Mélange's program from its JSON tables (gpu_info, workload_distribution, ...)");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_option("--time-limit", f->time_limit_s, "Seconds for the solver; past them, the best mix found and its gap")
      ->check(CLI::Range(0.001, 86400.0))
      ->default_val(60);
  cmd->add_option("--backend", f->backend, "Plan file: where the simulations run: local (children of this process) "
                                           "or slurm (a job array per batch; docs/planning.md)")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  CLI::Option* partition = cmd->add_option("--partition", f->partition, "With --backend slurm: the partition");
  CLI::Option* max_concurrent =
      cmd->add_option("--max-concurrent", f->max_concurrent, "With --backend slurm: array tasks running at once")
          ->check(CLI::Range(1, 1000000));
  CLI::Option* slurm_dir = cmd->add_option(
      "--slurm-dir", f->slurm_dir,
      "With --backend slurm: the folder for the batch scripts, outputs and logs, on a file system the compute "
      "nodes share (default: NAME.plan-slurm)");
  CLI::Option* jobs = cmd->get_option("--jobs");
  return [f, partition, max_concurrent, slurm_dir, jobs]() -> int {
    if (f->melange_json.empty() == f->spec.empty()) {
      std::fprintf(stderr, "gpufleet: error: plan needs one input: a plan file, or --melange-json FILE\n");
      return 2;
    }
    const bool slurm = f->backend == "slurm";
    for (const CLI::Option* o : {partition, max_concurrent, slurm_dir}) {
      if (!slurm && o->count() > 0) {
        std::fprintf(stderr, "gpufleet: error: %s needs --backend slurm\n", o->get_name().c_str());
        return 2;
      }
    }
    PlanSpecFlags flags;
    flags.spec = f->spec;
    flags.out = f->out;
    flags.catalog = f->catalog;
    flags.db = f->db;
    flags.cache = f->cache;
    flags.db_wait_s = f->db_wait_s;
    flags.jobs = f->jobs;
    flags.json = f->json;
    if (slurm) {
      if (!f->melange_json.empty()) {
        std::fprintf(stderr, "gpufleet: error: --backend slurm applies to a plan file; --melange-json simulates "
                             "nothing\n");
        return 2;
      }
      if (jobs->count() > 0) {
        std::fprintf(stderr, "gpufleet: error: --jobs does not apply to --backend slurm (each array task runs one "
                             "simulation; --max-concurrent sets how many at once)\n");
        return 2;
      }
      auto sbatch = FindOnPath("sbatch");
      if (!sbatch.ok()) {
        std::fprintf(stderr, "gpufleet: error: --backend slurm: %s; run it where Slurm's client commands are "
                             "installed (a login node)\n",
                     std::string(sbatch.status().message()).c_str());
        return 2;
      }
      flags.backend = "slurm";
      flags.sbatch = *sbatch;
      if (auto scancel = FindOnPath("scancel"); scancel.ok()) flags.scancel = *scancel;
      flags.partition = f->partition;
      flags.max_concurrent = f->max_concurrent;
      flags.slurm_dir = f->slurm_dir;
    }
    if (!f->spec.empty()) return RunPlanSpec(flags);
    absl::StatusOr<CapacityTable> table = LoadMelangeJson(f->melange_json);
    if (!table.ok()) return ReportError(table.status());
    absl::StatusOr<IlpSolution> solution = SolveCapacityIlp(*table, {.time_limit_s = f->time_limit_s});
    if (!solution.ok()) {
      return ReportError(
          absl::Status(solution.status().code(), absl::StrCat(f->melange_json, ": ", solution.status().message())));
    }
    if (solution->status == IlpStatus::kTimeLimit) {
      std::fprintf(stderr,
                   "gpufleet: warning: stopped at the %g s time limit: the best mix found, within %.2f%% of "
                   "the optimum\n",
                   f->time_limit_s, 100 * solution->relative_gap);
    }
    std::cout << (f->json ? FormatJson(*table, *solution) : FormatTable(f->melange_json, *table, *solution))
              << std::flush;
    return 0;
  };
}

}  // namespace gpufleet
