// Validation of whole serving runs by simulation: every published end-to-end run (ML.ENERGY closed loops,
// LLM-Inference-Bench fixed batches) is rebuilt as a scenario, simulated by a `gpufleet simulate` child
// process with the engine and the chosen serving stack's profiles, and its metrics set beside the
// measured ones. This is what `gpufleet validate --source {mlenergy,inference-bench}` reports; the
// analytic replay the stack fit uses (models/calibration/end_to_end_fit.h) is only the fit's objective.
//
// How a run becomes a scenario:
//   fixed batch  `batch` requests of prompt_tokens/output_tokens at t = 0, scheduler vllm (V0: prefill
//                first), max_batched_tokens max(max_model_len, 2048); latency = the last request's end.
//   closed loop  3 x max_num_seqs requests (at least 256) at t = 0, prompts of the assumed length, output
//                lengths at the quantiles of the task's histogram in a fixed shuffled order, at most
//                max_num_seqs running, chunked prefill (sarathi) with ML.ENERGY's 8,192-token budget;
//                output throughput over the 1-second intervals in which requests were still waiting
//                (the steady state ML.ENERGY measures), inter-token latency percentiles over the run.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/calibration/end_to_end_fit.h"
#include "models/calibration/end_to_end_runs.h"

namespace gpufleet {

struct EndToEndValidationOptions {
  std::string binary;        // the gpufleet executable the children run
  std::string serving_stack; // scenario serving_stack (empty: profiles_dir)
  std::string profiles_dir;  // perf_model.profiles, when validating a folder of profiles instead of a stack
  std::string catalog_dir;   // --catalog for the children (empty: built-in)
  const Catalog* catalog = nullptr;  // the same catalog, loaded
  int jobs = 1;
  ReplayAssumptions assumptions;
  bool progress = false;     // one progress line on stderr, redrawn (for a terminal)
  std::string extra_yaml;    // appended to every run's scenario (e.g. a gpu_power: section)
};

struct SimulatedRun {
  const EndToEndRun* run = nullptr;
  std::vector<RunMetric> metrics;  // measured and simulated, each metric the set has
  std::string perf_model;          // the run's perf model label (calibrated or derived profile, stack)
  std::string error;               // non-empty: the simulation failed (its stderr's last line)
};

absl::StatusOr<std::vector<SimulatedRun>> SimulateEndToEndRuns(const std::vector<EndToEndRun>& runs,
                                                               const EndToEndValidationOptions& options);

// The scenario and trace text for one run (exposed for tests).
struct RunScenario {
  std::string scenario_yaml;  // refers to the trace as "trace.csv" beside it
  std::string trace_csv;
};
absl::StatusOr<RunScenario> ScenarioForRun(const EndToEndRun& run, const EndToEndValidationOptions& options);

}  // namespace gpufleet
