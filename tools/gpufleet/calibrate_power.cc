// Fitting power parameters by simulating measured serving runs (see calibrate_power.h).
#include "tools/gpufleet/calibrate_power.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "models/calibration/end_to_end_runs.h"
#include "models/calibration/power_fit.h"
#include "models/calibration/serving_stacks.h"
#include "models/power_params.h"
#include "orchestration/child_processes.h"
#include "orchestration/end_to_end_validation.h"
#include "sim/util/atomic_file.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

// The scenario section that sets every power parameter to zero but `unit` (to one) and keeps idle.
std::string UnitPowerYaml(const GpuSpec& gpu, int unit) {
  std::string out = absl::StrCat("gpu_power:\n  ", gpu.name, ": {idle_w: ", gpu.idle_w);
  for (int k = 0; k < kPowerParameters; ++k) absl::StrAppend(&out, ", ", kPowerParameterNames[k], ": ", k == unit ? 1 : 0);
  return out + "}\n";
}

std::string Pct(double f) { return fmt::format("{:.1f}%", 100 * f); }

}  // namespace

int RunPowerCalibration(const PowerCalibrationRequest& r) {
  if (absl::Status s = CheckOutputPath(r.out, "-o"); !s.ok()) return ReportError(s);
  auto catalog = Catalog::LoadFromDir(r.catalog.empty() ? Catalog::DefaultDir() : r.catalog);
  if (!catalog.ok()) return ReportError(catalog.status());
  const GpuSpec* gpu = catalog->FindGpu(r.gpu);
  if (gpu == nullptr) return ReportError(absl::InvalidArgumentError("--gpu '" + r.gpu + "' is not in the GPU catalog"));
  std::vector<EndToEndRun> runs;
  std::vector<std::string> read;
  for (const auto& [source, path] : r.sets) {
    absl::StatusOr<std::vector<EndToEndRun>> got = ReadEndToEndSet(source, path, *catalog);
    if (!got.ok()) return ReportError(got.status());
    int kept = 0;
    for (EndToEndRun& run : *got) {
      if (run.gpu != gpu->name || !absl::StartsWithIgnoreCase(run.framework, r.framework)) continue;
      if (!(std::isfinite(run.power_w) && run.power_w > 0)) continue;
      runs.push_back(std::move(run));
      ++kept;
    }
    read.push_back(fmt::format("{} ({}, {} {} runs of {} with power)", path, source, kept, r.framework, gpu->name));
  }
  if (runs.size() < static_cast<size_t>(kPowerParameters)) {
    return ReportError(absl::InvalidArgumentError(fmt::format(
        "{} {} runs of {} with measured power; expected at least {} to fit the power parameters", runs.size(),
        r.framework, gpu->name, kPowerParameters)));
  }

  auto stacks = LoadServingStacks(CalibrationRoot(), *catalog);
  if (!stacks.ok()) return ReportError(stacks.status());
  const ServingStack* stack = nullptr;
  if (!r.stack.empty()) {
    auto found = FindServingStack(*stacks, r.stack);
    if (!found.ok()) return ReportError(absl::InvalidArgumentError("--stack: " + std::string(found.status().message())));
    stack = *found;
  } else {
    stack = DefaultServingStack(*stacks, {gpu->name}).stack;
  }
  EndToEndValidationOptions opt;
  auto self = SelfExecutable();
  if (!self.ok()) return ReportError(self.status());
  opt.binary = *self;
  opt.serving_stack = stack->name;
  opt.catalog_dir = r.catalog;
  opt.catalog = &*catalog;
  opt.jobs = r.jobs;
  opt.progress = isatty(STDERR_FILENO) != 0;
  InstallSweepSignalHandlers();

  // What each run draws per unit of each parameter: one simulation per parameter, all others zero.
  std::vector<PowerSample> samples(runs.size());
  std::vector<bool> ok(runs.size(), true);
  for (int k = 0; k < kPowerParameters; ++k) {
    opt.extra_yaml = UnitPowerYaml(*gpu, k);
    auto sims = SimulateEndToEndRuns(runs, opt);
    if (!sims.ok()) return ReportError(sims.status());
    for (size_t i = 0; i < runs.size(); ++i) {
      const SimulatedRun& s = (*sims)[i];
      double simulated = NAN;
      for (const RunMetric& m : s.metrics)
        if (m.name == "gpu_power_w") simulated = m.predicted;
      if (!s.error.empty() || !std::isfinite(simulated)) {
        ok[i] = false;
        continue;
      }
      samples[i].per_unit[k] = std::max(0.0, simulated - gpu->idle_w);
    }
  }
  std::vector<PowerSample> fit_samples;
  int failed = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!ok[i]) {
      ++failed;
      continue;
    }
    PowerSample& s = samples[i];
    const EndToEndRun& run = runs[i];
    s.set = run.source;
    s.model = run.model;
    s.label = fmt::format("{}:{} {} TP{} batch {}", run.origin.file, run.origin.row, run.model, run.tensor_parallel,
                          run.batch);
    s.measured_w = run.power_w / run.tensor_parallel;
    s.idle_w = gpu->idle_w;
    fit_samples.push_back(s);
  }
  // Leave one model out; with a single model (Splitwise's Llama-2-70B), leave one tensor-parallel degree
  // out instead, so the error still comes from configurations the fit never saw.
  std::set<std::string> models;
  for (const PowerSample& s : fit_samples) models.insert(s.model);
  std::string fold_name = "model";
  if (models.size() == 1) {
    fold_name = "tensor-parallel degree";
    for (size_t i = 0, k = 0; i < runs.size(); ++i) {
      if (ok[i]) fit_samples[k++].model = fmt::format("TP{}", runs[i].tensor_parallel);
    }
  }
  const PowerFitResult fit = FitPower(fit_samples, fold_name);

  PowerParamsFile file;
  file.params = DerivedPowerParams(*gpu);
  GpuPowerParams& p = file.params;
  p.active_w = fit.theta[0];
  p.pj_per_flop = fit.theta[1];
  p.pj_per_hbm_byte = fit.theta[2];
  p.pj_per_link_byte = fit.theta[3];
  p.status = "fitted";
  std::string sets;
  for (const std::string& s : read) sets += (sets.empty() ? "" : "; ") + s;
  p.source = fmt::format("{} {} runs simulated with the {} stack ({}); idle {} W from the catalog", fit_samples.size(),
                         r.framework, stack->name, sets, gpu->idle_w);
  file.command = r.command;
  file.fit = fit.errors;
  if (absl::Status s = WritePowerParamsFile(file, r.out); !s.ok()) return ReportError(s);

  std::printf("wrote %s (fitted power parameters of %s)\n", r.out.c_str(), gpu->name.c_str());
  std::printf("  active %.1f W | %.3f pJ/FLOP | %.1f pJ/HBM byte | %.1f pJ/link byte (idle %.0f W)\n", p.active_w,
              p.pj_per_flop, p.pj_per_hbm_byte, p.pj_per_link_byte, p.idle_w);
  for (const auto& [set, e] : fit.errors) {
    std::printf("  %-16s median %6s  mean %6s  p90 %6s  n=%lld  (%s)\n", set.c_str(), Pct(e.median_ape).c_str(),
                Pct(e.mean_ape).c_str(), Pct(e.p90_ape).c_str(), static_cast<long long>(e.n), e.method.c_str());
  }
  if (failed > 0) std::printf("  note: %d runs failed to simulate and were left out\n", failed);
  return 0;
}

}  // namespace gpufleet
