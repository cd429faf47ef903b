// Runs a measurement plan on the GPU(s): one benchmark object per op group, the power sampler around
// every point, the optional power-limit sweep, progress on stderr, and the rows in the CSV schema
// (written as the run goes, so an interrupted or failed run keeps what it measured).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/microbench/device.h"
#include "tools/microbench/method.h"
#include "tools/microbench/microbench_csv.h"
#include "tools/microbench/nvml.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/power_limit.h"

namespace gpufleet::microbench {

struct RunContext {
  std::vector<GpuInfo> gpus;           // all visible GPUs (collectives use every one)
  int device = 0;                      // index into gpus for the single-GPU ops
  const Nvml* nvml = nullptr;          // null without NVML
  std::vector<NvmlDevice> nvml_devices;  // parallel to gpus when nvml is set
  std::string gpu_name, driver_version, cuda_version;  // the CSV's identity columns
  // Non-empty: why cudnn_sdpa points are skipped (cuDNN missing, or its start-up check failed).
  std::string cudnn_disabled;
};

struct RunOptions {
  MethodOptions method;
  std::vector<double> power_limits;    // empty: measure once at the limit in force
  std::string out_path;
  std::vector<std::string> comments;   // written at the top of the CSV
  bool progress = true;
};

struct RunOutcome {
  std::vector<MicrobenchRow> rows;
  std::vector<std::string> skipped;    // "gemm fp8 m=... : reason"
  bool interrupted = false;
  absl::Status fatal;                  // what ended the run early (CUDA context lost, power limit, CSV write)
};

RunOutcome RunPlan(const Plan& plan, const RunContext& ctx, const RunOptions& options, PowerLimitGuard* guard);

}  // namespace gpufleet::microbench
