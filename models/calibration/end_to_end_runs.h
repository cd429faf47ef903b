// Published end-to-end serving measurements, one configuration per run, for validating whole simulated
// runs (not single iterations like measurements.h's Splitwise rows): the ML.ENERGY Benchmark V3 leaderboard
// files (closed-loop vLLM serving) and LLM-Inference-Bench's CSVs (one fixed batch per run). Formats and
// provenance: ../shared/data/README.md.
//
// Model and hardware names go through model_names.h's normalised rule. Errors follow the readers' format
// ("PATH:ROW: what; expected ..."; a JSON configuration's row is its index + 1). A set may hold rows no
// simulation can reproduce; those are skipped, never silently: each is returned in `skipped` with its
// reason, and SummarizeSkipped() says how many for each reason. What is skipped:
//   ML.ENERGY: nothing (every file holds one catalog model on one catalog GPU).
//   LLM-Inference-Bench: llama.cpp runs (quantised GGUF weights of unpublished precision; their Throughput
//   column does not follow from batch, length and latency either), rows whose hardware or model is not in
//   the catalog (the set surveys GPUs and 7B models the catalog does not hold: GH200, DeciLM-7B, ...), and
//   power or TTFT rows with no All_results.csv row of the same configuration.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/calibration/measurements.h"
#include "models/catalog.h"

namespace gpufleet {

// One published end-to-end serving measurement: a configuration and what was measured.
struct EndToEndRun {
  std::string source;     // "mlenergy", "inference-bench" or "splitwise"
  SampleOrigin origin;    // file, 1-based row (JSON: the configuration's index+1), model name as published
  std::string gpu;        // catalog GPU name
  std::string model;      // catalog LLM name
  std::string framework;  // as published: "vLLM 0.11.1", "vLLM", "TensorRT-LLM", "Deepspeed-MII"
  std::string precision;  // "bf16" / "fp16" / as published, "" when not stated
  std::string task;       // mlenergy: "lm-arena-chat", "gpqa"; inference-bench: ""
  int tensor_parallel = 1;
  // kClosedLoop: every request queued at once, at most `batch` running (ML.ENERGY). kFixedBatch: one batch
  // of `batch` requests of prompt_tokens in and output_tokens out, start to finish (LLM-Inference-Bench).
  enum class Kind { kClosedLoop, kFixedBatch } kind = Kind::kFixedBatch;
  int batch = 0;          // closed loop: max_num_seqs; fixed batch: batch size
  int prompt_tokens = 0;  // fixed batch: input length (closed loop: 0 = not published)
  int output_tokens = 0;  // fixed batch: output length; closed loop: round(avg_output_len)
  // Closed loop: the output-length histogram, edges (size counts+1) and counts, from the configuration (else
  // the file).
  std::vector<double> output_bins;
  std::vector<double> output_counts;
  // Measured; NaN when the set does not have it.
  double avg_batch = NAN;     // mean running requests (ML.ENERGY avg_batch_size)
  double output_tok_s = NAN;  // output tokens/s (LLM-Inference-Bench: half its Throughput, which counts input too)
  double itl_p50_s = NAN, itl_p90_s = NAN, itl_p95_s = NAN, itl_p99_s = NAN;  // inter-token latency
  double ttft_s = NAN;              // time to first token (LLM-Inference-Bench's TTFT file: input 1024, batch 16)
  double latency_s = NAN;           // fixed batch: the whole batch, prefill and every decode step
  double power_w = NAN;             // mean power of all the run's GPUs together (ML.ENERGY: summed over num_gpus)
  double energy_per_token_j = NAN;  // per output token, all GPUs
};

// A row the reader left out, and why (a short reason shared by every row it applies to).
struct SkippedRow {
  SampleOrigin origin;
  std::string reason;
};

// The measured sets a calibration reads: (source, path) for `source`/`path` and each `--also SOURCE=PATH`.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EndToEndSets(const std::string& source,
                                                                              const std::string& path,
                                                                              const std::vector<std::string>& also);
// ReadMlEnergy, ReadInferenceBench or ReadSplitwisePower by source name.
absl::StatusOr<std::vector<EndToEndRun>> ReadEndToEndSet(const std::string& source, const std::string& path,
                                                         const Catalog& catalog);

// Every *.json below `dir` (sorted): ML.ENERGY V3 leaderboard files. Nothing is skipped: an unknown model or
// GPU is an error.
absl::StatusOr<std::vector<EndToEndRun>> ReadMlEnergy(const std::string& dir, const Catalog& catalog);
// The LLM-Inference-Bench folder: All_results.csv rows, joined with power_results.csv (power) and
// all_results_TTFT_ITL.csv (TTFT; its end_latency) where the configuration matches. Rows it skips go to
// `skipped` (when given).
absl::StatusOr<std::vector<EndToEndRun>> ReadInferenceBench(const std::string& dir, const Catalog& catalog,
                                                            std::vector<SkippedRow>* skipped = nullptr);

// Splitwise's end-to-end profile (perf_model_llama2-70b.csv): its rows with measured power (the A100 rows:
// average power over a fixed batch's whole run, as a share of TDP), each a fixed-batch run of batch_size
// requests of prompt_size tokens in and token_size out. Rows without power (zero) are skipped, and so are
// `-pcap` rows (Splitwise's model of a capped H100, not a measurement) and rows whose prompt and output
// exceed the model's context (the 4,096- and 8,192-token prompts of a 4,096-token model). The framework is recorded as
// "Splitwise": the profile does not name the serving stack it timed.
absl::StatusOr<std::vector<EndToEndRun>> ReadSplitwisePower(const std::string& path, const Catalog& catalog,
                                                            std::vector<SkippedRow>* skipped = nullptr);

// "skipped N rows: n1 REASON1; n2 REASON2" (reasons by count, largest first), or "" when none.
std::string SummarizeSkipped(const std::vector<SkippedRow>& skipped);

}  // namespace gpufleet
