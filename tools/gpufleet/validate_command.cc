// `gpufleet validate --source {vidur,splitwise,microbench} PATH [--profile FILE] [--json] [--points CSV]`: predict
// every measured point with the current profiles and report the errors, with cross-validated figures
// beside them; `--points` writes every point with its predictions, to see where the errors are.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/calibration/calibrate.h"
#include "models/calibration/serving_stacks.h"
#include "models/catalog.h"
#include "sim/util/atomic_file.h"
#include "sim/util/csv_field.h"
#include "tools/gpufleet/commands.h"
#include "tools/gpufleet/validate_end_to_end.h"

namespace gpufleet {
namespace {

nlohmann::ordered_json ErrorJson(const FitError& e) {
  return {{"method", e.method}, {"median_ape", e.median_ape}, {"mape", e.mape}, {"p90_ape", e.p90_ape},
          {"max_ape", e.max_ape}, {"n", e.n}};
}

std::string ErrorRow(const std::string& name, const FitError& e) {
  if (e.n == 0) return fmt::format("  {:<28} {:>8} {:>8} {:>8} {:>9} {:>6}\n", name, "-", "-", "-", "-", 0);
  return fmt::format("  {:<28} {:>7.1f}% {:>7.1f}% {:>7.1f}% {:>8.1f}% {:>6}\n", name, e.median_ape * 100, e.mape * 100,
                     e.p90_ape * 100, e.max_ape * 100, e.n);
}


std::string PointsCsv(const ValidationReport& report) {
  std::string out = "file,row,group,config,measured_s,predicted_s,cross_validated_s,ape,cross_validated_ape\n";
  for (const ValidationPoint& p : report.points) {
    const bool cv = std::isfinite(p.cross_validated_s);
    out += fmt::format("{},{},{},{},{:.9g},{:.9g},{},{:.6f},{}\n", CsvField(p.file), p.row, CsvField(p.group),
                       CsvField(p.config), p.measured_s, p.predicted_s,
                       cv ? fmt::format("{:.9g}", p.cross_validated_s) : "",
                       std::fabs(p.predicted_s / p.measured_s - 1),
                       cv ? fmt::format("{:.6f}", std::fabs(p.cross_validated_s / p.measured_s - 1)) : "");
  }
  return out;
}

}  // namespace

std::function<int()> AddValidateCommand(CLI::App& app) {
  struct Flags {
    std::string source, path, profile, gpu, catalog, points, node, derive_from, stack;
    int jobs = 2, prompt_tokens = 256;
    bool json = false;
    bool attention_from_reference = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("validate", "Compare the performance model's predictions with measurements");
  cmd->add_option("--source", f->source, "Measurement format")
      ->required()
      ->check(CLI::IsMember({"vidur", "splitwise", "microbench", "mlenergy", "inference-bench"}));
  cmd->add_option("path", f->path,
                  "vidur: a compute folder (vidur-profiles/compute/h100); splitwise: the CSV; microbench: the suite's CSV; "
                  "mlenergy: the folder of ML.ENERGY V3 JSON files; inference-bench: the LLM-Inference-Bench folder")
      ->required();
  cmd->add_option("--profile", f->profile, "Profile to validate (default: the GPU's profile in models/calibration)");
  cmd->add_option("--gpu", f->gpu,
                  "vidur: catalog GPU the folder measured (default: from the folder name); microbench: required");
  cmd->add_option("--node", f->node, "microbench: catalog node the collectives ran on (default: the GPU's NVLink)");
  cmd->add_option("--derive-from", f->derive_from,
                  "vidur, microbench: validate the profile the measured GPU would get if only this GPU were calibrated "
                  "(how far a derived, uncalibrated profile is off)")
      ->excludes("--profile");
  cmd->add_option("--stack", f->stack,
                  "Serving stack whose profiles to validate (models/calibration/stacks.yaml). Default: splitwise-2023 "
                  "(the stack of the kernel and Splitwise measurements) for vidur, splitwise and microbench; for "
                  "mlenergy and inference-bench the scenario default (the most recent stack with measurements of "
                  "every GPU the set covers)")
      ->excludes("--profile");
  cmd->add_option("--catalog", f->catalog, "Catalog directory (default: the built-in models/catalog)");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_flag("--attention-from-reference", f->attention_from_reference,
                "microbench: validate against the suite's own reference attention kernels instead of cuDNN's fused "
                "attention (kernel cudnn_sdpa)");
  cmd->add_option("-j,--jobs", f->jobs, "mlenergy, inference-bench: simulations to run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--prompt-tokens", f->prompt_tokens,
                  "mlenergy: the prompt length to simulate (ML.ENERGY publishes none)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--points", f->points,
                  "Also write every measured point with its predictions (profile and cross-validated) to this CSV");
  return [f]() -> int {
    if (f->source == "mlenergy" || f->source == "inference-bench") {
      if (!f->profile.empty() || !f->derive_from.empty() || !f->gpu.empty() || !f->node.empty()) {
        return ReportError(absl::InvalidArgumentError(
            "--source " + f->source + " validates a serving stack (--stack), every GPU the set covers: --profile, "
            "--derive-from, --gpu and --node apply to the kernel and Splitwise sources"));
      }
      return RunEndToEndValidation({f->source, f->path, f->stack, f->catalog, f->points, f->jobs, f->prompt_tokens, f->json});
    }
    // Checked before the (long) validation, so it never ends in an output it cannot write.
    if (!f->points.empty()) {
      if (absl::Status s = CheckOutputPath(f->points, "--points"); !s.ok()) return ReportError(s);
    }
    auto catalog = Catalog::LoadFromDir(f->catalog.empty() ? Catalog::DefaultDir() : f->catalog);
    if (!catalog.ok()) return ReportError(catalog.status());
    const std::string stack_dir = CalibrationRoot() + "/" + (f->stack.empty() ? std::string(kSplitwiseStack) : f->stack);
    if (!std::filesystem::is_directory(stack_dir)) {
      return ReportError(absl::InvalidArgumentError("--stack '" + f->stack + "' has no folder " + stack_dir +
                                                    "; expected a stack listed by `gpufleet catalog profiles`"));
    }
    // The profile to validate for the measured GPU: --profile, one derived from --derive-from's, or its own.
    auto profile_for = [&](const GpuSpec& gpu) -> absl::StatusOr<GpuProfile> {
      if (!f->profile.empty()) return LoadGpuProfile(f->profile);
      if (f->derive_from.empty()) return ProfileForGpu(gpu, *catalog, stack_dir);
      const GpuSpec* donor = catalog->FindGpu(f->derive_from);
      if (donor == nullptr) {
        return absl::InvalidArgumentError("--derive-from '" + f->derive_from + "' is not in the GPU catalog");
      }
      auto donor_profile = ProfileForGpu(*donor, *catalog, stack_dir);
      if (!donor_profile.ok()) return donor_profile.status();
      if (!donor_profile->calibrated()) {
        return absl::InvalidArgumentError("--derive-from " + f->derive_from + ": that GPU has no calibrated profile");
      }
      return DeriveProfile(gpu, *donor_profile, *donor);
    };
    if (!f->derive_from.empty() && f->source == "splitwise") {
      return ReportError(absl::InvalidArgumentError("--derive-from applies to --source vidur or microbench"));
    }
    absl::StatusOr<ValidationReport> report;
    if (f->source == "vidur") {
      std::string gpu_name = f->gpu;
      if (gpu_name.empty()) {
        // vidur's folder names: a100 (A100-80GB), h100 (H100-80GB), a40.
        const std::string leaf = std::filesystem::path(f->path).filename().string();
        gpu_name = leaf == "a100" ? "A100-SXM-80GB" : leaf == "h100" ? "H100-SXM-80GB" : leaf == "a40" ? "A40" : "";
        if (gpu_name.empty()) return ReportError(absl::InvalidArgumentError("cannot tell the GPU of " + f->path + "; pass --gpu"));
      }
      const GpuSpec* gpu = catalog->FindGpu(gpu_name);
      if (gpu == nullptr) return ReportError(absl::InvalidArgumentError("--gpu '" + gpu_name + "' is not in the GPU catalog"));
      auto profile = profile_for(*gpu);
      if (!profile.ok()) return ReportError(profile.status());
      report = ValidateVidur(f->path, *profile, *gpu);
    } else if (f->source == "microbench") {
      if (f->gpu.empty()) {
        return ReportError(absl::InvalidArgumentError("--source microbench needs --gpu, the catalog GPU the CSV measured"));
      }
      const GpuSpec* gpu = catalog->FindGpu(f->gpu);
      if (gpu == nullptr) return ReportError(absl::InvalidArgumentError("--gpu '" + f->gpu + "' is not in the GPU catalog"));
      double link_gbps = gpu->nvlink_gbps > 0 ? gpu->nvlink_gbps : gpu->pcie_gbps;
      if (!f->node.empty()) {
        const NodeSpec* node = catalog->FindNode(f->node);
        if (node == nullptr) return ReportError(absl::InvalidArgumentError("--node '" + f->node + "' is not in the node catalog"));
        link_gbps = node->intra_gbps > 0 ? node->intra_gbps : link_gbps;
      }
      auto profile = profile_for(*gpu);
      if (!profile.ok()) return ReportError(profile.status());
      report = ValidateMicrobench(f->path, *profile, *gpu, link_gbps, f->attention_from_reference);
    } else {
      std::map<std::string, GpuProfile> profiles;
      for (const char* name : {"A100-SXM-80GB", "H100-SXM-80GB"}) {
        auto profile = f->profile.empty() ? ProfileForGpu(*catalog->FindGpu(name), *catalog, stack_dir)
                                          : LoadGpuProfile(f->profile);
        if (!profile.ok()) return ReportError(profile.status());
        profiles[name] = *profile;
      }
      report = ValidateSplitwise(f->path, profiles, *catalog);
    }
    if (!report.ok()) return ReportError(report.status());
    if (!f->points.empty()) {
      if (absl::Status s = WriteFileAtomically(f->points, PointsCsv(*report)); !s.ok()) return ReportError(s);
    }
    // The headline is the cross-validated error whenever the profile was fitted on these measurements.
    const FitError& headline = report->in_sample ? report->overall_cross_validated : report->overall_profile;
    if (f->json) {
      nlohmann::ordered_json j;
      j["source"] = report->source;
      j["profile_fitted_on_these_measurements"] = report->in_sample;
      j["overall"] = ErrorJson(headline);
      j["overall_profile"] = ErrorJson(report->overall_profile);
      j["overall_cross_validated"] = ErrorJson(report->overall_cross_validated);
      nlohmann::ordered_json groups = nlohmann::ordered_json::array();
      for (const auto& g : report->groups) {
        groups.push_back({{"name", g.name}, {"headline", g.headline}, {"profile", ErrorJson(g.profile)},
                          {"cross_validated", ErrorJson(g.cross_validated)}});
      }
      j["groups"] = groups;
      nlohmann::ordered_json excluded = nlohmann::ordered_json::array();
      for (const auto& e : report->excluded) {
        excluded.push_back({{"file", e.row.origin.file}, {"row", e.row.origin.row}, {"hardware", e.row.hardware},
                            {"tensor_parallel", e.row.tensor_parallel}, {"reason", e.reason}});
      }
      j["excluded"] = excluded;
      j["notes"] = report->notes;
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::string out = fmt::format("validation against {}\n", report->source);
    out += report->in_sample ? "  the profile was fitted on these measurements: its own errors are in-sample; the\n"
                               "  cross-validated errors (refitted without each held-out fold) are the honest figure\n"
                             : "  the profile was not fitted on these measurements: its errors are held-out\n";
    const std::string header = fmt::format("  {:<28} {:>8} {:>8} {:>8} {:>9} {:>6}\n", "", "median", "mean", "p90", "max", "n");
    out += "\ncross-validated (" + report->overall_cross_validated.method + ")\n" + header;
    for (const auto& g : report->groups) out += ErrorRow(g.name + (g.headline ? "" : " *"), g.cross_validated);
    out += ErrorRow("overall", report->overall_cross_validated);
    out += std::string("\nprofile as shipped (") + (report->in_sample ? "in-sample" : "held-out") + ")\n" + header;
    for (const auto& g : report->groups) out += ErrorRow(g.name + (g.headline ? "" : " *"), g.profile);
    out += ErrorRow("overall", report->overall_profile);
    for (const auto& n : report->notes) out += "\nnote: " + n + "\n";
    if (!report->excluded.empty()) out += "\nexcluded rows (inconsistent measurements):\n";
    for (const auto& e : report->excluded) {
      out += fmt::format("  {}:{}: {} tp{}: {}\n", e.row.origin.file, e.row.origin.row, e.row.hardware,
                         e.row.tensor_parallel, e.reason);
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  };
}

}  // namespace gpufleet
