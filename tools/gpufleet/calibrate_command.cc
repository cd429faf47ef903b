// `gpufleet calibrate --source {vidur,splitwise,microbench} PATH --gpu NAME -o FILE`: fit a GPU's
// calibration profile to measurements and write it with its provenance and cross-validated error.
#include <cstdio>

#include "models/calibration/calibrate.h"
#include "models/calibration/end_to_end_fit.h"
#include "absl/strings/match.h"
#include "sim/util/status_macros.h"
#include "models/calibration/serving_stacks.h"
#include "models/catalog.h"
#include "sim/util/atomic_file.h"
#include "tools/gpufleet/calibrate_power.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

namespace {

bool IsEndToEndSource(const std::string& s) { return s == "mlenergy" || s == "inference-bench"; }

template <typename Flags>
absl::StatusOr<GpuProfile> FitEndToEnd(const Flags& f, const GpuSpec& gpu, const GpuProfile& start,
                                       const Catalog& catalog) {
  GF_ASSIGN_OR_RETURN(const auto sets, EndToEndSets(f.source, f.path, f.also));
  std::vector<EndToEndRun> runs;
  std::vector<std::string> notes;
  std::vector<GpuProfile::FittedSet> digests;
  for (const auto& [source, path] : sets) {
    GF_ASSIGN_OR_RETURN(GpuProfile::FittedSet digest, FittedSetOf(path));
    digests.push_back(std::move(digest));
    GF_ASSIGN_OR_RETURN(std::vector<EndToEndRun> got, ReadEndToEndSet(source, path, catalog));
    int kept = 0;
    for (EndToEndRun& r : got) {
      if (r.gpu != gpu.name || !absl::StartsWithIgnoreCase(r.framework, f.framework)) continue;
      runs.push_back(std::move(r));
      ++kept;
    }
    notes.push_back(path + " (" + source + ", " + std::to_string(kept) + " " + f.framework + " runs of " + gpu.name + ")");
  }
  EndToEndFitOptions options;
  options.stack = f.stack;
  GF_ASSIGN_OR_RETURN(GpuProfile fitted, CalibrateFromEndToEnd(runs, start, gpu, catalog, options));
  for (std::string& n : notes) fitted.sources.push_back(std::move(n));
  for (auto& d : digests) fitted.fitted_on.push_back(std::move(d));
  return fitted;
}

}  // namespace

std::function<int()> AddCalibrateCommand(CLI::App& app) {
  struct Flags {
    std::string source, path, gpu, out, base, network, node, hardware, catalog, stack, framework = "vLLM";
    std::vector<std::string> also;
    bool shapes = false;
    bool attention_from_reference = false;
    bool power = false;
    int jobs = 2;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("calibrate", "Fit a GPU's performance-model profile to measurements");
  cmd->add_option("--source", f->source, "Measurement format")
      ->required()
      ->check(CLI::IsMember({"vidur", "splitwise", "microbench", "mlenergy", "inference-bench"}));
  cmd->add_option("path", f->path, "vidur: a compute folder (vidur-profiles/compute/h100); splitwise: the CSV; "
                                   "microbench: the suite's CSV")
      ->required();
  cmd->add_option("--gpu", f->gpu, "Catalog GPU the measurements are of (e.g. H100-SXM-80GB)")->required();
  cmd->add_option("-o,--out", f->out, "Profile file to write (YAML)")->required();
  cmd->add_option("--profile", f->base,
                  "Starting profile (vidur default: built-in values; splitwise default: the GPU's current profile)");
  cmd->add_option("--network", f->network, "vidur: an all_reduce.csv of the node type given by --node");
  cmd->add_option("--node", f->node,
                  "Catalog node type the collectives were measured on (vidur --network; microbench: default the GPU's NVLink)");
  cmd->add_option("--hardware", f->hardware, "splitwise: which hardware's rows to fit (a100-80gb, h100-80gb)");
  cmd->add_option("--stack", f->stack,
                  "Serving stack the profile describes (a folder of models/calibration, see stacks.yaml); the "
                  "starting profile for splitwise comes from it. Default: the starting profile's, else splitwise-2023 "
                  "(the stack of the vidur and Splitwise measurements)");
  cmd->add_option("--framework", f->framework,
                  "mlenergy, inference-bench: fit only runs of this framework (case-insensitive prefix of the "
                  "published name; default vLLM; splitwise's runs are 'Splitwise')");
  cmd->add_option("--also", f->also,
                  "mlenergy, inference-bench: another end-to-end set to fit together with PATH, as SOURCE=PATH "
                  "(e.g. --also inference-bench=../shared/data/llm-inference-bench)");
  cmd->add_option("--catalog", f->catalog, "Catalog directory (default: the built-in models/catalog)");
  cmd->add_flag("--power", f->power,
                "mlenergy, inference-bench, splitwise: fit the GPU's power-model parameters (activity power, energy per FLOP, "
                "per HBM byte, per link byte) to the runs' measured power instead of the performance profile; -o "
                "writes models/power/<GPU>.yaml (docs/power-model.md)");
  cmd->add_option("-j,--jobs", f->jobs, "--power: simulations to run at once")->check(CLI::Range(1, 256));
  cmd->add_flag("--attention-from-reference", f->attention_from_reference,
                "microbench: fit attention to the suite's own CUDA-core reference kernels (kernel reference) instead of "
                "cuDNN's fused attention (kernel cudnn_sdpa, what serving stacks run). Off by default: the reference "
                "kernels are ~10x slower than flash attention and would make prefill look that slow");
  CLI::Option* shapes_flag = cmd->add_flag(
      "--shape-corrections,!--no-shape-corrections", f->shapes,
      "vidur, microbench: also keep every measured GEMM shape's measured/modelled ratio per token count (the BLAS "
      "library's kernel choice on the measured software stack), used for that shape. Default: on for microbench "
      "(your own stack), off for vidur (another stack's; see docs/perf-model.md)");
  CLI::Option* framework_flag = cmd->get_option("--framework");
  return [f, shapes_flag, framework_flag]() -> int {
    // Checked before the (long) fit, so it never ends in an output it cannot write.
    if (absl::Status s = CheckOutputPath(f->out, "-o"); !s.ok()) return ReportError(s);
    if (f->power) {
      if (!IsEndToEndSource(f->source) && f->source != "splitwise") {
        return ReportError(absl::InvalidArgumentError(
            "--power fits power to measured serving runs: --source mlenergy, inference-bench or splitwise"));
      }
      PowerCalibrationRequest req;
      auto sets = EndToEndSets(f->source, f->path, f->also);
      if (!sets.ok()) return ReportError(sets.status());
      req.sets = *std::move(sets);
      req.gpu = f->gpu;
      // Splitwise's profile names no serving stack: its runs are framework "Splitwise".
      req.framework = f->source == "splitwise" && framework_flag->count() == 0 ? "Splitwise" : f->framework;
      req.stack = f->stack;
      req.catalog = f->catalog;
      req.out = f->out;
      req.jobs = f->jobs;
      req.command = "gpufleet calibrate --power --source " + f->source + " " + f->path + " --gpu " + f->gpu;
      for (const std::string& a : f->also) req.command += " --also " + a;
      if (!f->stack.empty()) req.command += " --stack " + f->stack;
      if (framework_flag->count() > 0) req.command += " --framework " + f->framework;
      return RunPowerCalibration(req);
    }
    const bool shapes = shapes_flag->count() > 0 ? f->shapes : f->source == "microbench";
    if (shapes_flag->count() > 0 && f->source == "splitwise") {
      return ReportError(absl::InvalidArgumentError(
          "--shape-corrections and --no-shape-corrections apply to kernel measurements (--source vidur or "
          "microbench); splitwise keeps the starting profile's measured shapes"));
    }
    auto catalog = Catalog::LoadFromDir(f->catalog.empty() ? Catalog::DefaultDir() : f->catalog);
    if (!catalog.ok()) return ReportError(catalog.status());
    const GpuSpec* gpu = catalog->FindGpu(f->gpu);
    if (gpu == nullptr) return ReportError(absl::InvalidArgumentError("--gpu '" + f->gpu + "' is not in the GPU catalog"));
    // vidur fits the kernel parameters from the built-in starting values (so a refit does not depend on
    // the previous one); splitwise refines the GPU's current kernel-level profile.
    absl::StatusOr<GpuProfile> start = GpuProfile{};
    if (!f->base.empty()) {
      start = LoadGpuProfile(f->base);
    } else if (f->source == "splitwise" || IsEndToEndSource(f->source)) {
      // End-to-end sets refine the GPU's kernel-level profile of the splitwise-2023 stack by default.
      if (IsEndToEndSource(f->source) && f->stack.empty()) {
        return ReportError(absl::InvalidArgumentError(
            "--source " + f->source + " fits a serving stack's profile: pass --stack NAME (e.g. vllm-0.11)"));
      }
      start = IsEndToEndSource(f->source) ? ProfileForGpu(*gpu, *catalog, CalibrationRoot() + "/" + std::string(kSplitwiseStack)) :
              ProfileForGpu(*gpu, *catalog, CalibrationRoot() + "/" + (f->stack.empty() ? std::string(kSplitwiseStack) : f->stack));
    }
    if (!start.ok()) return ReportError(start.status());
    absl::StatusOr<GpuProfile> profile;
    if (f->source == "vidur") {
      VidurCalibrationInput input{f->path, f->network, nullptr, shapes};
      if (!f->network.empty()) {
        input.network_node = catalog->FindNode(f->node);
        if (input.network_node == nullptr) {
          return ReportError(absl::InvalidArgumentError("--network needs --node, a catalog node type (e.g. DGX-H100)"));
        }
      }
      profile = CalibrateFromVidur(input, *gpu, *start);
    } else if (IsEndToEndSource(f->source)) {
      profile = FitEndToEnd(*f, *gpu, *start, *catalog);
    } else if (f->source == "splitwise") {
      if (f->hardware.empty()) return ReportError(absl::InvalidArgumentError("--source splitwise needs --hardware"));
      profile = CalibrateFromSplitwise(f->path, f->hardware, *start, *catalog);
    } else {
      double link_gbps = gpu->nvlink_gbps > 0 ? gpu->nvlink_gbps : gpu->pcie_gbps;
      if (!f->node.empty()) {
        const NodeSpec* node = catalog->FindNode(f->node);
        if (node == nullptr) return ReportError(absl::InvalidArgumentError("--node '" + f->node + "' is not in the node catalog"));
        link_gbps = node->intra_gbps > 0 ? node->intra_gbps : link_gbps;
      }
      profile = CalibrateFromMicrobench(f->path, *gpu, *start, link_gbps, shapes, f->attention_from_reference);
    }
    if (!profile.ok()) return ReportError(profile.status());
    profile->serving_stack = !f->stack.empty() ? f->stack : !start->serving_stack.empty() ? start->serving_stack : std::string(kSplitwiseStack);
    // A refinement keeps the history of how the profile was made.
    std::string step = "gpufleet calibrate --source " + f->source + " " + f->path + " --gpu " + f->gpu +
                       (f->hardware.empty() ? "" : " --hardware " + f->hardware) +
                       (shapes_flag->count() == 0 ? ""
                        : shapes                   ? " --shape-corrections"
                                                   : " --no-shape-corrections");
    if (f->attention_from_reference) step += " --attention-from-reference";
    if (IsEndToEndSource(f->source)) {
      step += " --stack " + f->stack;
      for (const std::string& a : f->also) step += " --also " + a;
      profile->command = "kernel parameters of the " + std::string(kSplitwiseStack) + " profile; then " + step;
    } else {
      // A repeated refinement replaces the earlier one.
      std::string history = start->command.substr(0, start->command.find("; then gpufleet calibrate --source splitwise"));
      profile->command = (f->source == "splitwise" && !history.empty()) ? history + "; then " + step : step;
    }
    if (auto st = WriteGpuProfile(*profile, f->out); !st.ok()) return ReportError(st);
    std::printf("wrote %s (%s)\n", f->out.c_str(), profile->status.c_str());
    if (f->source == "microbench") {
      for (size_t i = 1; i < profile->sources.size(); ++i) std::printf("  note: %s\n", profile->sources[i].c_str());
    }
    for (const auto& [name, e] : profile->fit) {
      std::printf("  %-18s median %5.1f%%  mean %5.1f%%  p90 %5.1f%%  max %6.1f%%  n=%lld  (%s)\n", name.c_str(),
                  e.median_ape * 100, e.mape * 100, e.p90_ape * 100, e.max_ape * 100, static_cast<long long>(e.n),
                  e.method.c_str());
    }
    return 0;
  };
}

}  // namespace gpufleet
