// Fitting a serving stack's profile to end-to-end serving measurements (ML.ENERGY, LLM-Inference-Bench).
//
// Kernel measurements fix what a GPU's kernels cost; what a serving stack adds on top cannot be seen in
// them: CUDA graphs (a replayed graph launches kernels for a fraction of an eager launch's cost), the
// attention kernels it ships, its scheduler's host time per iteration and per sequence. These are fitted
// here on top of a kernel-level profile (the same equations, gpu_profile.h):
//   launch_scale              multiplies every kernel's fixed launch time (graphs: < 1)
//   iteration_overhead_s, per_sequence_s, per_rank_s (tensor-parallel runs only)   host time
//   attention.decode_memory_efficiency   the stack's paged-attention kernel
// and the other kernel parameters are kept. Eager prefill launch is taken as zero (the stacks fitted here
// capture prefill in graphs or batch it large enough to hide the launches).
//
// The fit compares measurements with a fast analytic replay of each run through the operator model
// (ReplayRun), not a full simulation: fixed batches replay the vLLM V0 schedule exactly (whole prompts
// up to the token budget per prefill iteration, then every decode step); closed loops use the steady
// state at the measured mean batch. `gpufleet validate` then checks the fitted profile by simulating each
// run with the engine.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/calibration/end_to_end_runs.h"
#include "models/calibration/gpu_profile.h"
#include "models/catalog.h"

namespace gpufleet {

// What the published runs do not say, taken as documented assumptions.
struct ReplayAssumptions {
  // ML.ENERGY publishes output lengths but not prompt lengths: the mean prompt of its tasks' requests.
  int closed_loop_prompt_tokens = 256;
  // vLLM V1 (ML.ENERGY's 0.11.1): chunked prefill with this token budget.
  int closed_loop_token_budget = 8192;
  double gpu_memory_utilization = 0.9;
};

// The engine settings a run was measured with (also what `validate` simulates).
struct RunSchedule {
  std::string scheduler;            // "vllm" (fixed batch: V0 prefill-first) or "sarathi" (closed loop: chunked)
  int64_t max_batched_tokens = 0;   // fixed batch: max(max_model_len, 2048), vLLM V0's default
  int64_t max_batch_size = 0;       // the run's max_num_seqs (fixed batch: at least the batch)
  int64_t max_model_len = 0;
};
RunSchedule ScheduleOf(const EndToEndRun& run, const LlmSpec& llm, const ReplayAssumptions& a);

struct ReplayPrediction {
  double latency_s = NAN, ttft_s = NAN, output_tok_s = NAN, itl_p50_s = NAN;
  bool kv_fits = true;  // false: the run needs more KV cache than the GPUs hold (preemption; not replayed exactly)
};
// `profile` must be for run.gpu; the LLM and node come from the catalog.
absl::StatusOr<ReplayPrediction> ReplayRun(const EndToEndRun& run, const GpuProfile& profile, const Catalog& catalog,
                                           const ReplayAssumptions& a = {});

// The measured metrics of a run the fit and the errors use, with their predictions.
struct RunMetric {
  std::string name;   // "latency", "ttft", "output_tok_s", "itl_p50"
  double measured = 0, predicted = 0;
};
std::vector<RunMetric> CompareRun(const EndToEndRun& run, const ReplayPrediction& p);

struct EndToEndFitOptions {
  std::string stack;  // the stack the profile describes (written into it)
  ReplayAssumptions assumptions;
};
// Fits the stack parameters above for `gpu` from the runs of that GPU in `runs` (others are ignored),
// starting from the kernel-level `base`. Records "end_to_end" (leave-one-model-out cross-validated APE
// over every metric) in the profile's fit errors, and "end_to_end_<source>" per source.
absl::StatusOr<GpuProfile> CalibrateFromEndToEnd(const std::vector<EndToEndRun>& runs, const GpuProfile& base,
                                                 const GpuSpec& gpu, const Catalog& catalog,
                                                 const EndToEndFitOptions& options);

}  // namespace gpufleet
