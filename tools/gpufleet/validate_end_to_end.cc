// End-to-end validation report: errors of simulated whole runs against ML.ENERGY and LLM-Inference-Bench.
#include "tools/gpufleet/validate_end_to_end.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/fit.h"
#include "models/calibration/gpu_profile.h"
#include "models/calibration/serving_stacks.h"
#include "orchestration/child_processes.h"
#include "orchestration/end_to_end_validation.h"
#include "sim/util/atomic_file.h"
#include "sim/util/csv_field.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

nlohmann::ordered_json ErrorJson(const FitError& e) {
  return {{"median_ape", e.median_ape}, {"mape", e.mape}, {"p90_ape", e.p90_ape}, {"max_ape", e.max_ape}, {"n", e.n}};
}

std::string Pct(const FitError& e, double FitError::*field) {
  return e.n == 0 ? std::string("-") : fmt::format("{:.1f}%", e.*field * 100);
}


// APEs pooled by a key, in key order.
struct Pool {
  std::map<std::string, std::vector<double>> ape;
  void Add(const std::string& key, double a) { ape[key].push_back(a); }
  FitError Of(const std::string& key) const {
    auto it = ape.find(key);
    return SummarizeErrors(it == ape.end() ? std::vector<double>{} : it->second, "simulation");
  }
};

}  // namespace

int RunEndToEndValidation(const EndToEndValidateFlags& f) {
  if (!f.points.empty()) {
    if (absl::Status s = CheckOutputPath(f.points, "--points"); !s.ok()) return ReportError(s);
  }
  auto catalog = Catalog::LoadFromDir(f.catalog.empty() ? Catalog::DefaultDir() : f.catalog);
  if (!catalog.ok()) return ReportError(catalog.status());
  std::vector<SkippedRow> skipped;
  auto runs = f.source == "mlenergy" ? ReadMlEnergy(f.path, *catalog) : ReadInferenceBench(f.path, *catalog, &skipped);
  if (!runs.ok()) return ReportError(runs.status());
  auto stacks = LoadServingStacks(CalibrationRoot(), *catalog);
  if (!stacks.ok()) return ReportError(stacks.status());
  std::set<std::string> gpus;
  for (const EndToEndRun& r : *runs) gpus.insert(r.gpu);
  const ServingStack* stack = nullptr;
  std::string stack_note;
  if (!f.stack.empty()) {
    auto found = FindServingStack(*stacks, f.stack);
    if (!found.ok()) return ReportError(absl::InvalidArgumentError("--stack: " + std::string(found.status().message())));
    stack = *found;
    stack_note = "named by --stack";
  } else {
    const StackChoice c = DefaultServingStack(*stacks, {gpus.begin(), gpus.end()});
    stack = c.stack;
    stack_note = c.reason;
  }
  // Which GPUs the stack calibrated, and whether its profiles were fitted on this set.
  std::map<std::string, GpuProfile> profiles;
  bool in_sample = false;
  for (const std::string& g : gpus) {
    auto p = ProfileForGpu(*catalog->FindGpu(g), *catalog, stack->dir);
    if (!p.ok()) return ReportError(p.status());
    in_sample |= FittedOn(*p, f.path);
    profiles[g] = *std::move(p);
  }

  EndToEndValidationOptions opt;
  auto self = SelfExecutable();
  if (!self.ok()) return ReportError(self.status());
  opt.binary = *self;
  opt.serving_stack = stack->name;
  opt.catalog_dir = f.catalog;
  opt.catalog = &*catalog;
  opt.jobs = f.jobs;
  opt.assumptions.closed_loop_prompt_tokens = f.prompt_tokens;
  opt.progress = isatty(STDERR_FILENO) != 0;  // a terminal: one line redrawn; logs get none
  InstallSweepSignalHandlers();
  auto sims = SimulateEndToEndRuns(*runs, opt);
  if (!sims.ok()) return ReportError(sims.status());

  // Group: GPU, model, TP; runs of another framework than the stack's form their own groups, labelled.
  Pool overall, metric, group, group_metric, other;
  std::map<std::string, std::string> group_label;
  std::vector<std::string> failed;
  std::string points = "file,row,group,framework,stack_matches,metric,measured,simulated,ape\n";
  for (const SimulatedRun& s : *sims) {
    const EndToEndRun& r = *s.run;
    if (!s.error.empty()) {
      failed.push_back(fmt::format("{}:{}: {}", r.origin.file, r.origin.row, s.error));
      continue;
    }
    const bool matches = absl::StartsWithIgnoreCase(r.framework, stack->framework);
    std::string key = fmt::format("{} {} TP{}", r.gpu, r.model, r.tensor_parallel);
    if (!matches) key += fmt::format(" [{}: not {}]", r.framework, stack->framework);
    const GpuProfile& prof = profiles[r.gpu];
    group_label[key] = prof.calibrated() ? "calibrated" : "derived from " + prof.derived_from;
    for (const RunMetric& m : s.metrics) {
      const double ape = std::fabs(m.predicted / m.measured - 1);
      // Power scores the power model, not the perf model: it has its own rows and stays out of the overall
      // figures (which the perf model's fit and docs quote).
      const bool power = m.name == "gpu_power_w";
      if (matches) {
        if (!power) overall.Add("all", ape);
        metric.Add(m.name, ape);
      } else if (!power) {
        other.Add("all", ape);
      }
      if (!power) group.Add(key, ape);
      group_metric.Add(key + "\t" + m.name, ape);
      absl::StrAppend(&points, fmt::format("{},{},{},{},{},{},{:.9g},{:.9g},{:.6f}\n", CsvField(r.origin.file), r.origin.row,
                                           CsvField(key), CsvField(r.framework), matches ? 1 : 0, m.name, m.measured,
                                           m.predicted, ape));
    }
  }
  if (!f.points.empty()) {
    if (absl::Status st = WriteFileAtomically(f.points, points); !st.ok()) return ReportError(st);
  }
  std::vector<std::string> notes;
  notes.push_back("errors are absolute percentage errors of the simulated run against the measured one, as fractions");
  if (f.source == "mlenergy") {
    notes.push_back(fmt::format("ML.ENERGY publishes no prompt lengths: every prompt is taken as {} tokens "
                                "(--prompt-tokens)", f.prompt_tokens));
  }
  notes.push_back("gpu_power_w (mean power of one of the run's GPUs; ML.ENERGY: in the intervals with a full batch) "
                  "scores the power model, whose parameters are derived from the spec sheet unless fitted; it is left "
                  "out of the overall and per-group figures, which are the perf model's");
  if (in_sample) {
    notes.push_back("the stack's profiles were fitted on these measurements (their content digest matches): these errors "
                    "are in-sample; `gpufleet catalog profiles` shows each profile's leave-one-model-out figure");
  }
  for (const auto& [g, p] : profiles) {
    if (!p.calibrated()) notes.push_back(fmt::format("{} has no profile in {}: derived from {} (uncalibrated)", g, stack->name, p.derived_from));
  }
  const std::string skipped_text = SummarizeSkipped(skipped);
  if (!skipped_text.empty()) notes.push_back("the reader " + skipped_text);

  const std::vector<std::string> metric_names = {"latency", "ttft", "output_tok_s", "itl_p50", "itl_p90", "itl_p95", "itl_p99",
                                                 "gpu_power_w"};
  if (f.json) {
    nlohmann::ordered_json j;
    j["source"] = f.source;
    j["serving_stack"] = {{"name", stack->name}, {"chosen", stack_note}, {"framework", stack->framework}};
    j["units"] = "fractions (0.05 = 5%)";
    j["profile_fitted_on_these_measurements"] = in_sample;
    j["overall"] = ErrorJson(overall.Of("all"));
    nlohmann::ordered_json per_metric = nlohmann::ordered_json::object();
    for (const std::string& m : metric_names)
      if (metric.ape.contains(m)) per_metric[m] = ErrorJson(metric.Of(m));
    j["metrics"] = per_metric;
    j["other_frameworks"] = ErrorJson(other.Of("all"));
    nlohmann::ordered_json groups = nlohmann::ordered_json::array();
    for (const auto& [key, ape] : group.ape) {
      nlohmann::ordered_json g = {{"name", key}, {"profile", group_label[key]}, {"overall", ErrorJson(group.Of(key))}};
      nlohmann::ordered_json gm = nlohmann::ordered_json::object();
      for (const std::string& m : metric_names)
        if (group_metric.ape.contains(key + "\t" + m)) gm[m] = ErrorJson(group_metric.Of(key + "\t" + m));
      g["metrics"] = gm;
      groups.push_back(g);
    }
    j["groups"] = groups;
    j["failed"] = failed;
    j["notes"] = notes;
    std::cout << j.dump(2) << "\n";
    return failed.size() == sims->size() && !sims->empty() ? 1 : 0;
  }
  std::string out = fmt::format("end-to-end validation against {} ({} runs) by simulation\n", f.source, runs->size());
  out += fmt::format("  serving stack {} ({})\n\n", stack->name, stack_note);
  out += fmt::format("  {:<62} {:>8} {:>8} {:>8} {:>6}\n", "", "median", "mean", "p90", "n");
  auto row = [&](const std::string& name, const FitError& e) {
    out += fmt::format("  {:<62} {:>8} {:>8} {:>8} {:>6}\n", name, Pct(e, &FitError::median_ape), Pct(e, &FitError::mape),
                       Pct(e, &FitError::p90_ape), e.n);
  };
  row(fmt::format("overall ({} runs)", stack->framework), overall.Of("all"));
  for (const std::string& m : metric_names)
    if (metric.ape.contains(m)) row("  " + m, metric.Of(m));
  if (!other.ape.empty()) row("other frameworks (labelled below)", other.Of("all"));
  out += "\nper GPU, model, TP (all metrics; profile)\n";
  for (const auto& [key, ape] : group.ape) row(key + " (" + group_label[key] + ")", group.Of(key));
  for (const std::string& n : notes) out += "\nnote: " + n;
  out += "\n";
  if (!failed.empty()) out += fmt::format("\n{} runs failed to simulate:\n  {}\n", failed.size(), absl::StrJoin(failed, "\n  "));
  std::fputs(out.c_str(), stdout);
  return failed.size() == sims->size() && !sims->empty() ? 1 : 0;
}

}  // namespace gpufleet
