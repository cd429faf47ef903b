// gpufleet-microbench: measures one GPU type (GEMM through cuBLASLt, the project's attention kernels, HBM
// and host-link bandwidth, launch overhead, NCCL collectives across the visible GPUs, power and clocks
// through NVML, optionally across power limits) into the CSV that `gpufleet calibrate --source
// microbench` reads (docs/microbench-csv.md). --dry-run prints the plan and its estimated duration
// without touching a GPU.
//
// Exit codes: 0 success; 1 measurement failure (CUDA error, attention check mismatch, CSV not written);
// 2 bad input (flags, catalog, model names); 3 no CUDA GPU found; 4 --power-limits refused (not root, no
// NVML, limit out of range); 130 interrupted (the rows measured so far are written).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "models/catalog.h"
#include "sim/util/yaml_fields.h"
#include "tools/microbench/attention_check.h"
#include "tools/microbench/cache_rotation.h"
#include "tools/microbench/cudnn_sdpa_bench.h"
#include "tools/microbench/cli_lists.h"
#include "tools/microbench/device.h"
#include "tools/microbench/interrupt.h"
#include "tools/microbench/nvml.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/plan_estimate.h"
#include "tools/microbench/plan_summary.h"
#include "tools/microbench/power_limit.h"
#include "tools/microbench/runner.h"
#include "tools/microbench/synthetic.h"

namespace gpufleet::microbench {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitNoGpu = 3;
constexpr int kExitPowerRefused = 4;
constexpr int kExitInterrupted = 130;

constexpr char kDefaultGpuModel[] = "H100-SXM-80GB";
constexpr double kKvCacheShareOfMemory = 0.4;  // decode points may use this much of the GPU's memory

struct Flags {
  bool dry_run = false;
  bool quick = false;
  bool list = false;
  bool check_only = false;
  bool skip_check = false;
  bool no_progress = false;
  std::string out;
  std::string ops, models, tp, tokens, dtypes, power_limits, attention_kernels;
  std::string timing = "graph";
  double steady_window_ms = 300;
  double max_rel_ci = 0.02;
  double max_seconds = 2.0;
  int64_t min_reps = 10;
  std::string gpu_model;
  int ranks = 0;
  int device = 0;
  std::string catalog;
  std::string synthetic_out;
};

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "gpufleet-microbench: %s\n", msg.c_str());
  return code;
}

int Fail(int code, const absl::Status& s) { return Fail(code, std::string(s.message())); }

std::string Today() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::string NowIso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "NVIDIA H100 80GB HBM3" -> "NVIDIA-H100-80GB-HBM3".
std::string Slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_') {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "gpu" : out;
}

// microbench-<gpu>-<date>.csv, with -2, -3, ... rather than overwriting an earlier run.
std::string DefaultOutPath(const std::string& gpu_name) {
  const std::string base = fmt::format("microbench-{}-{}", Slug(gpu_name), Today());
  std::string path = base + ".csv";
  for (int i = 2; std::filesystem::exists(path); ++i) path = fmt::format("{}-{}.csv", base, i);
  return path;
}

// The catalog GPU a device name most likely is (for the printed estimate only): the catalog entries whose
// first name token is a word of the device name, the closest in memory size.
const GpuSpec* GuessCatalogGpu(const Catalog& catalog, const GpuInfo& gpu) {
  std::vector<std::string> words = absl::StrSplit(gpu.name, absl::ByAnyChar(" -_"), absl::SkipEmpty());
  const GpuSpec* best = nullptr;
  double best_diff = 1e30;
  for (const auto& [name, spec] : catalog.gpus()) {
    const std::string head = name.substr(0, name.find('-'));
    if (std::find(words.begin(), words.end(), head) == words.end()) continue;
    const double diff = std::abs(spec.hbm_gb * 1e9 - static_cast<double>(gpu.total_memory));
    if (diff < best_diff) {
      best = &spec;
      best_diff = diff;
    }
  }
  return best;
}

absl::StatusOr<const GpuSpec*> FindGpuModel(const Catalog& catalog, const std::string& name) {
  if (const GpuSpec* g = catalog.FindGpu(name)) return g;
  std::string hint;
  if (std::string c = ClosestMatch(name, catalog.GpuNames()); !c.empty()) hint = absl::StrCat(" (did you mean '", c, "'?)");
  return absl::InvalidArgumentError(absl::StrCat("--gpu-model: unknown GPU '", name, "'", hint,
                                                 "; expected one of ", absl::StrJoin(catalog.GpuNames(), ", ")));
}

// Dense fp16 FLOP per HBM byte at which the GPU turns compute-bound (its roofline's ridge point).
double RidgeIntensity(const GpuSpec& gpu) {
  return gpu.hbm_gbps > 0 && gpu.fp16_tflops > 0 ? gpu.fp16_tflops * 1e12 / (gpu.hbm_gbps * 1e9) : 150;
}

// Applies the list flags to the defaults.
absl::Status ApplyFlags(const Flags& f, const Catalog& catalog, PlanOptions* po, std::vector<LlmSpec>* models) {
  if (!f.ops.empty()) {
    auto v = ParseOpGroups("--ops", f.ops);
    if (!v.ok()) return v.status();
    po->ops = *v;
  }
  if (!f.tp.empty()) {
    auto v = ParseIntList("--tp", f.tp);
    if (!v.ok()) return v.status();
    po->tp = *v;
  }
  if (!f.tokens.empty()) {
    auto v = ParseSizeList("--tokens", f.tokens);
    if (!v.ok()) return v.status();
    po->tokens = *v;
  }
  if (!f.dtypes.empty()) {
    auto v = ParseDtypes("--dtypes", f.dtypes);
    if (!v.ok()) return v.status();
    po->dtypes = *v;
  }
  if (!f.attention_kernels.empty()) {
    po->attention_kernels.clear();
    for (const std::string& name : SplitList(f.attention_kernels)) {
      std::optional<Kernel> k = ParseKernel(name);
      if (!k || (*k != Kernel::kCudnnSdpa && *k != Kernel::kReference)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--attention-kernels: '", name, "'; expected cudnn_sdpa and/or reference"));
      }
      po->attention_kernels.push_back(*k);
    }
  }
  auto m = SelectModels(catalog, SplitList(f.models));
  if (!m.ok()) return absl::InvalidArgumentError(absl::StrCat("--models: ", m.status().message()));
  *models = *std::move(m);
  return absl::OkStatus();
}

std::string MethodComment(const MethodOptions& m) {
  return fmt::format(
      "method: one cold call, then warm-up until >= {} calls and {:.0f} ms of GPU time; one sample = back-to-back "
      "calls lasting >= {:.0f} us between CUDA events, {} (column timing); weights and KV rotated over >= {} x L2 "
      "(column cold_copies); >= {} samples, stop when the median's {:.0f}% CI half-width <= {:.1f}% of it or after "
      "{:.2g} s; compute-bound points sample for >= {:.0f} ms (steady clocks and power); power = energy counter "
      "difference / window, empty for windows under {:.0f} ms; statistics over samples (median, p10, p90 of "
      "per-sample means, not of single calls)",
      m.warmup_min_calls, m.warmup_seconds * 1e3, m.target_sample_seconds * 1e6,
      m.timing == TimingMode::kGraph ? "replayed from a captured CUDA graph" : "launched from the host",
      kColdSetL2Multiple, m.stop.min_reps, m.stop.confidence * 100, m.stop.max_rel_ci * 100, m.stop.max_seconds,
      m.steady_window_seconds * 1e3, m.min_power_window_seconds * 1e3);
}

int DryRun(const Flags& f, const Catalog& catalog, PlanOptions po, const std::vector<LlmSpec>& models,
           const MethodOptions& method, const std::vector<double>& limits) {
  auto gpu = FindGpuModel(catalog, f.gpu_model.empty() ? kDefaultGpuModel : f.gpu_model);
  if (!gpu.ok()) return Fail(kExitBadInput, gpu.status());
  po.fp8_supported = (*gpu)->fp8_tflops > 0;
  po.steady_min_intensity = RidgeIntensity(**gpu);
  po.max_kv_cache_bytes = kKvCacheShareOfMemory * (*gpu)->hbm_gb * 1e9;
  po.ranks = f.ranks > 0 ? f.ranks : 8;
  auto plan = BuildPlan(models, po);
  if (!plan.ok()) return Fail(kExitBadInput, plan.status());
  const PlanEstimate e = EstimatePlan(*plan, **gpu, method, static_cast<int>(limits.size()));
  std::printf("gpufleet-microbench dry run%s: %zu points%s, estimated %s on %s (%lld GPU(s) for collectives)\n\n",
              f.quick ? " (--quick)" : "", plan->points.size(),
              limits.empty() ? "" : fmt::format(" x {} power limits", limits.size()).c_str(),
              FormatDuration(e.total_seconds).c_str(), (*gpu)->name.c_str(), static_cast<long long>(po.ranks));
  std::fputs(FormatPlanSummary(*plan, po, e, **gpu).c_str(), stdout);
  if (f.list) std::printf("\n%s", FormatPlanList(*plan, **gpu, method).c_str());
  if (!f.synthetic_out.empty()) {
    if (absl::Status s = WriteSyntheticCsv(f.synthetic_out, *plan, **gpu); !s.ok()) return Fail(kExitBadInput, s);
    std::printf("\nwrote %zu synthetic rows (roofline estimate, not measurements) to %s\n", plan->points.size(),
                f.synthetic_out.c_str());
  }
  return kExitOk;
}

int Run(int argc, char** argv) {
  Flags f;
  CLI::App app{"gpufleet-microbench: measure a GPU (GEMM, attention, memory, launch, NCCL collectives, power) "
               "into gpufleet's calibration CSV (docs/microbench-csv.md)"};
  app.set_version_flag("--version", std::string("gpufleet-microbench ") + GPUFLEET_VERSION);
  app.add_flag("--dry-run", f.dry_run, "Print the measurement plan and its estimated duration; needs no GPU");
  app.add_flag("--quick", f.quick, "A subset that runs in a few minutes (at most 5) on one data-center GPU");
  app.add_flag("--list", f.list, "With --dry-run, also print every point");
  app.add_flag("--check-only", f.check_only,
               "Only check the attention kernels (reference and cuDNN) against the CPU reference");
  app.add_flag("--skip-check", f.skip_check, "Skip the start-up attention check");
  app.add_option("--out", f.out, "CSV to write (default microbench-<gpu>-<date>.csv)");
  app.add_option("--ops", f.ops, "Op groups: gemm,attention,memory,collectives,launch (default all)");
  app.add_option("--models", f.models, "Catalog models whose shapes to measure (default all)");
  app.add_option("--tp", f.tp, "Tensor-parallel degrees (default 1,2,4,8; a model keeps those dividing its heads)");
  app.add_option("--tokens", f.tokens, "GEMM token counts (default 1..16384, --quick 1,16,128,1024,4096)");
  app.add_option("--dtypes", f.dtypes, "fp16,bf16,fp8 (default all three; fp8 only where the GPU has it)");
  app.add_option("--power-limits", f.power_limits,
                 "Repeat the plan at each power limit, W (e.g. 300,400,500); needs root; restores the limit");
  app.add_option("--max-rel-ci", f.max_rel_ci, "Stop when the median's 95% CI half-width / median is below this")
      ->check(CLI::Range(1e-4, 1.0));
  CLI::Option* max_seconds = app.add_option("--max-seconds-per-point", f.max_seconds,
                                            "Time budget of the timed repetitions of one point (default 2, --quick 0.5)")
                                 ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--min-reps", f.min_reps, "Timed samples before the stopping rule may stop")->check(CLI::Range(6, 100000));
  app.add_option("--gpu-model", f.gpu_model,
                 "Catalog GPU whose figures the duration estimate uses (default H100-SXM-80GB for --dry-run, "
                 "guessed from the device otherwise)");
  app.add_option("--ranks", f.ranks, "GPUs for collectives (default: all visible; --dry-run: 8)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--device", f.device, "CUDA device index for the single-GPU measurements")->check(CLI::NonNegativeNumber);
  app.add_option("--catalog", f.catalog, "Catalog directory (default: the built-in models/catalog)");
  app.add_option("--synthetic-out", f.synthetic_out,
                 "With --dry-run, write the plan's roofline estimate as a CSV labelled synthetic (name must contain "
                 "'synthetic')");
  app.add_flag("--no-progress", f.no_progress, "No per-point progress lines on stderr");
  app.add_option("--timing", f.timing,
                 "graph: replay calls captured in a CUDA graph (GPU time, as serving stacks run decode); launch: host "
                 "launches (includes launch cost) (default graph)")
      ->check(CLI::IsMember({"graph", "launch"}));
  CLI::Option* steady_window = app.add_option(
      "--steady-window-ms", f.steady_window_ms,
      "Compute-bound points keep sampling this long so clocks and power settle (default 300, --quick 0; 0 = off)");
  steady_window->check(CLI::Range(0.0, 60000.0));
  app.add_option("--attention-kernels", f.attention_kernels,
                 "cudnn_sdpa (cuDNN fused attention, what serving stacks run) and/or reference (the suite's own "
                 "CUDA-core kernels) (default both)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }

  auto catalog = Catalog::LoadFromDir(f.catalog.empty() ? Catalog::DefaultDir() : f.catalog);
  if (!catalog.ok()) return Fail(kExitBadInput, catalog.status());
  PlanOptions po = PlanOptions::Defaults(f.quick);
  std::vector<LlmSpec> models;
  if (absl::Status s = ApplyFlags(f, *catalog, &po, &models); !s.ok()) return Fail(kExitBadInput, s);
  MethodOptions method;
  method.stop.max_rel_ci = f.max_rel_ci;
  method.stop.min_reps = f.min_reps;
  // --min-reps accepts up to 100000, above the default max_reps (2000). Without this the stop rule keeps
  // going until min_reps anyway, but TimeCalls sizes batches by max_reps - n, so past max_reps every
  // sample becomes its own batch (one sync and one ComputeStats per sample).
  method.stop.max_reps = std::max(method.stop.max_reps, method.stop.min_reps);
  method.stop.max_seconds = max_seconds->count() > 0 ? f.max_seconds : (f.quick ? 0.5 : 2.0);
  method.timing = f.timing == "launch" ? TimingMode::kLaunch : TimingMode::kGraph;
  // --quick is a smoke test: no steady windows unless asked (they would multiply its few minutes).
  method.steady_window_seconds = steady_window->count() > 0 ? f.steady_window_ms / 1000 : (f.quick ? 0 : 0.3);
  std::vector<double> limits;
  if (!f.power_limits.empty()) {
    auto v = ParsePositiveList("--power-limits", f.power_limits);
    if (!v.ok()) return Fail(kExitBadInput, v.status());
    limits = *v;
  }
  if (!f.synthetic_out.empty() && !f.dry_run) return Fail(kExitBadInput, "--synthetic-out needs --dry-run");

  if (f.dry_run) return DryRun(f, *catalog, po, models, method, limits);

  // From here on a GPU is needed.
  auto gpus = ListGpus();
  if (!gpus.ok()) return Fail(kExitNoGpu, gpus.status());
  if (f.device >= static_cast<int>(gpus->size())) {
    return Fail(kExitBadInput, fmt::format("--device {}: only {} GPU(s) visible", f.device, gpus->size()));
  }
  RunContext ctx;
  ctx.device = f.device;
  ctx.gpus = *gpus;
  if (f.ranks > 0 && f.ranks < static_cast<int>(ctx.gpus.size())) ctx.gpus.resize(static_cast<size_t>(f.ranks));
  if (ctx.device >= static_cast<int>(ctx.gpus.size())) {
    return Fail(kExitBadInput, fmt::format("--device {} is not among the first --ranks {} GPUs", f.device, f.ranks));
  }
  const GpuInfo& gpu = ctx.gpus[ctx.device];
  ctx.cuda_version = CudaRuntimeVersion();
  ctx.gpu_name = gpu.name;
  ctx.driver_version = "unknown";

  std::vector<std::string> comments = {
      absl::StrCat("gpufleet-microbench ", GPUFLEET_VERSION, "; schema docs/microbench-csv.md (version ", kMicrobenchSchemaVersion, ")")};
  std::unique_ptr<Nvml> nvml;
  if (auto loaded = Nvml::Load(); loaded.ok()) {
    nvml = std::move(*loaded);
    for (const GpuInfo& g : ctx.gpus) {
      auto d = nvml->DeviceByPciBusId(g.pci_bus_id, static_cast<unsigned>(g.index));
      if (!d.ok()) {
        std::fprintf(stderr, "gpufleet-microbench: NVML has no handle for GPU %d (%s); power readings disabled\n",
                     g.index, std::string(d.status().message()).c_str());
        ctx.nvml_devices.clear();
        break;
      }
      ctx.nvml_devices.push_back(*d);
    }
    if (!ctx.nvml_devices.empty()) {
      ctx.nvml = nvml.get();
      if (auto n = nvml->Name(ctx.nvml_devices[ctx.device]); n.ok()) ctx.gpu_name = *n;
    }
    if (auto v = nvml->DriverVersion(); v.ok()) ctx.driver_version = *v;
  } else {
    std::fprintf(stderr, "gpufleet-microbench: %s\n", std::string(loaded.status().message()).c_str());
    comments.push_back(absl::StrCat("nvml: ", loaded.status().message()));
  }
  for (const GpuInfo& g : ctx.gpus) {
    if (g.name != gpu.name) {
      std::fprintf(stderr, "gpufleet-microbench: WARNING: mixed GPUs (%s and %s); collectives span both types\n",
                   gpu.name.c_str(), g.name.c_str());
      break;
    }
  }

  // Only the GPUs the plan runs on get a new limit: the single-GPU ops' device, plus the others when
  // collectives are measured.
  std::vector<NvmlDevice> guarded = ctx.nvml_devices;
  if (!guarded.empty() && !(po.Selects(OpGroup::kCollectives) && ctx.gpus.size() > 1)) {
    guarded = {ctx.nvml_devices[ctx.device]};
  }
  PowerLimitGuard guard(ctx.nvml, guarded);
  // Before anything is allocated: pinned host buffers are first touched by this thread.
  const std::string binding = BindToGpuLocalCpus(gpu);
  std::fprintf(stderr, "gpufleet-microbench: %s\n", binding.c_str());
  comments.push_back(binding);
  if (!limits.empty()) {
    if (absl::Status s = guard.CheckCanSet(limits); !s.ok()) return Fail(kExitPowerRefused, s);
    // The guard restores the limit in force now. A limit below the default may be a killed run's leftover
    // (SIGKILL leaves no chance to restore): say so, and leave the decision to whoever runs it.
    for (NvmlDevice d : guarded) {
      auto now = ctx.nvml->PowerLimitWatts(d);
      auto def = ctx.nvml->DefaultPowerLimitWatts(d);
      if (now.ok() && def.ok() && std::abs(*now - *def) > 1) {
        const std::string w = fmt::format(
            "WARNING: power limit in force is {:.0f} W, the GPU's default {:.0f} W; it is what will be restored "
            "(a killed earlier run may have left it: nvidia-smi -pl {:.0f} restores the default)",
            *now, *def, *def);
        std::fprintf(stderr, "gpufleet-microbench: %s\n", w.c_str());
        comments.push_back(w);
      }
    }
  }
  InstallInterruptHandlers();

  cudaStream_t check_stream = nullptr;
  cudaSetDevice(gpu.index);
  const bool attention = po.Selects(OpGroup::kAttention);
  auto uses = [&](Kernel k) {
    return std::find(po.attention_kernels.begin(), po.attention_kernels.end(), k) != po.attention_kernels.end();
  };
  std::string cudnn_version;
  if (f.check_only || (attention && !f.skip_check)) {
    if (cudaStreamCreate(&check_stream) != cudaSuccess) return Fail(kExitFailure, "cudaStreamCreate failed");
    // The reference kernels must agree (a wrong reference would mislead whoever opts into it); cuDNN that
    // disagrees or is missing only drops the cudnn_sdpa points, with the reason in the CSV.
    if (f.check_only || uses(Kernel::kReference)) {
      auto lines = CheckAttentionKernels(gpu, check_stream);
      if (!lines.ok()) {
        cudaStreamDestroy(check_stream);
        return Fail(kExitFailure, lines.status());
      }
      if (f.check_only) {
        for (const std::string& l : *lines) std::printf("%s\n", l.c_str());
        std::printf("reference attention kernels agree with the CPU reference (%zu cases)\n", lines->size());
      } else {
        std::fprintf(stderr, "gpufleet-microbench: reference attention kernels checked (%zu cases ok)\n",
                     lines->size());
      }
    }
    if (f.check_only || uses(Kernel::kCudnnSdpa)) {
      auto lines = CheckCudnnSdpa(gpu, check_stream);
      if (!lines.ok()) {
        ctx.cudnn_disabled = absl::StrCat("cudnn_sdpa: ", lines.status().message());
        std::fprintf(stderr, "gpufleet-microbench: %s; cudnn_sdpa points will be skipped\n",
                     ctx.cudnn_disabled.c_str());
        comments.push_back(ctx.cudnn_disabled);
      } else {
        if (f.check_only) {
          for (const std::string& l : *lines) std::printf("%s\n", l.c_str());
          std::printf("cuDNN fused attention agrees with the CPU reference (%zu cases)\n", lines->size());
        } else {
          std::fprintf(stderr, "gpufleet-microbench: cuDNN fused attention checked (%zu cases ok)\n", lines->size());
        }
      }
    }
    cudaStreamDestroy(check_stream);
    if (f.check_only) return ctx.cudnn_disabled.empty() ? kExitOk : Fail(kExitFailure, ctx.cudnn_disabled);
  }

  po.fp8_supported = gpu.fp8();
  po.steady_min_intensity = 150;  // replaced by the catalog GPU's ridge point below when known
  po.max_kv_cache_bytes = kKvCacheShareOfMemory * static_cast<double>(gpu.total_memory);
  po.ranks = static_cast<int64_t>(ctx.gpus.size());
  const GpuSpec* est_gpu = nullptr;
  if (!f.gpu_model.empty()) {
    auto g = FindGpuModel(*catalog, f.gpu_model);
    if (!g.ok()) return Fail(kExitBadInput, g.status());
    est_gpu = *g;
  } else {
    est_gpu = GuessCatalogGpu(*catalog, gpu);
    if (est_gpu != nullptr) po.steady_min_intensity = RidgeIntensity(*est_gpu);
    if (est_gpu == nullptr) est_gpu = catalog->FindGpu(kDefaultGpuModel);
  }
  if (!f.gpu_model.empty()) po.steady_min_intensity = RidgeIntensity(*est_gpu);
  auto plan = BuildPlan(models, po);
  if (!plan.ok()) return Fail(kExitBadInput, plan.status());
  if (est_gpu != nullptr) {
    const PlanEstimate e = EstimatePlan(*plan, *est_gpu, method, static_cast<int>(limits.size()));
    std::fprintf(stderr, "gpufleet-microbench: %zu points on %s (%zu visible for collectives), estimated %s (from %s's "
                 "catalog figures)\n", plan->points.size(), ctx.gpu_name.c_str(), ctx.gpus.size(),
                 FormatDuration(e.total_seconds).c_str(), est_gpu->name.c_str());
  }
  for (const std::string& n : plan->notes) std::fprintf(stderr, "  left out: %s\n", n.c_str());

  RunOptions ro;
  ro.method = method;
  ro.power_limits = limits;
  ro.out_path = f.out.empty() ? DefaultOutPath(ctx.gpu_name) : f.out;
  ro.progress = !f.no_progress;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::vector<std::string> args(argv, argv + argc);
  comments.push_back("command: " + absl::StrJoin(args, " "));
  comments.push_back(absl::StrCat("date: ", NowIso(), "  host: ", host));
  comments.push_back(fmt::format("gpus: {} x {} (compute capability {}.{}, {:.1f} GiB, {} SMs); single-GPU ops on "
                                 "device {}; CUDA runtime {}, driver supports CUDA {}",
                                 ctx.gpus.size(), ctx.gpu_name, gpu.cc_major, gpu.cc_minor,
                                 static_cast<double>(gpu.total_memory) / (1 << 30), gpu.sm_count, gpu.index,
                                 ctx.cuda_version, CudaDriverVersion()));
  comments.push_back(MethodComment(method));
  comments.push_back("gemm: cuBLASLt, C = A . W^T (W stored [n][k]), fp32 accumulation; fp8 = e4m3 in, bf16 out");
  comments.push_back(
      "attention: kernel cudnn_sdpa = cuDNN's fused scaled-dot-product attention (tensor cores, flash-attention "
      "class); kernel reference = the suite's own CUDA-core kernels (tools/microbench/attention_kernels.cu), a labelled "
      "reference that calibrate uses only when asked");
  comments.push_back(fmt::format("gpu: L2 {} MiB; compute-bound (steady window) from {:.0f} FLOP/byte",
                                 gpu.l2_bytes >> 20, po.steady_min_intensity));
  ro.comments = comments;
  std::fprintf(stderr, "gpufleet-microbench: writing %s\n", ro.out_path.c_str());

  const auto start = std::chrono::steady_clock::now();
  RunOutcome out = RunPlan(*plan, ctx, ro, &guard);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gpufleet-microbench: %zu rows written to %s in %s; %zu points skipped\n", out.rows.size(),
               ro.out_path.c_str(), FormatDuration(took).c_str(), out.skipped.size());
  if (!out.fatal.ok()) {
    return Fail(out.fatal.code() == absl::StatusCode::kPermissionDenied ? kExitPowerRefused : kExitFailure, out.fatal);
  }
  if (out.interrupted) return Fail(kExitInterrupted, "interrupted; the rows measured so far are in the CSV");
  return kExitOk;
}

}  // namespace
}  // namespace gpufleet::microbench

int main(int argc, char** argv) { return gpufleet::microbench::Run(argc, argv); }
