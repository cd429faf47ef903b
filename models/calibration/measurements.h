// Measurement sets the performance model is calibrated and validated against, as plain rows.
//
// Readers turn each published format into these rows, checking every field; an error names the file and
// the 1-based row ("path:row: what; expected ..."), and a file without rows is an error too. Shapes are
// per GPU (after tensor-parallel sharding) and times are seconds, whatever the source's units.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gpufleet {

// Where a row came from, for error messages and cross-validation folds.
struct SampleOrigin {
  std::string file;
  int64_t row = 0;             // 1-based line in the file
  std::string model;           // e.g. "Llama-2-70b-hf" (vidur: the model folder); empty when not known
};

// One GEMM: C[m x n] = A[m x k] * B[k x n], fp16/bf16.
struct GemmSample {
  SampleOrigin origin;
  std::string op;              // vidur operator: attn_pre_proj, attn_post_proj, mlp_up_proj, mlp_down_proj
  int64_t m = 0, n = 0, k = 0;
  int tensor_parallel = 1;
  double time_s = 0;
};

// A memory-bound kernel (norms, rotary embedding, activation, residual add, embedding gather).
struct ElementwiseSample {
  SampleOrigin origin;
  std::string op;              // input_layernorm, post_attention_layernorm, attn_rope, mlp_act, add, emb
  double bytes = 0;            // bytes read + written (model dtype), from the shape columns
  int64_t tokens = 0;
  int tensor_parallel = 1;
  double time_s = 0;
};

// A NCCL collective.
struct CollectiveSample {
  SampleOrigin origin;
  std::string collective;      // all_reduce, send_recv
  std::string node;            // the measurement's node folder: a100_dgx, h100_dgx, a100_pairwise_nvlink
  int ranks = 0;               // num_workers
  int devices_per_node = 0;    // ranks on one node (ranks / devices_per_node nodes)
  double bytes = 0;            // message size
  double time_s = 0;
};

// End-to-end serving measurements (Splitwise's perf model file).
struct EndToEndSample {
  SampleOrigin origin;
  std::string model;           // "llama2-70b"
  std::string hardware;        // "a100-80gb", "h100-80gb", "h100-80gb-pcap"
  int tensor_parallel = 1;
  int prompt_tokens = 0;
  int batch = 0;
  int output_tokens = 0;       // token_size
  double prefill_s = 0;        // prefill of `batch` prompts of prompt_tokens
  double decode_iteration_s = 0;  // one decode step of the batch
  double e2e_s = 0;
};

struct VidurComputeSet {
  std::vector<GemmSample> gemms;
  std::vector<ElementwiseSample> elementwise;
};

// One vidur compute profile, `<gpu>/<org>/<model>/mlp.csv`; the model name comes from its folder.
absl::StatusOr<VidurComputeSet> ReadVidurCompute(const std::string& path);
// Every mlp.csv below `dir` (e.g. vidur-profiles/compute/h100), in sorted path order.
absl::StatusOr<VidurComputeSet> ReadVidurComputeDir(const std::string& dir);
// One vidur network profile, `<node>/{all_reduce,send_recv}.csv`.
absl::StatusOr<std::vector<CollectiveSample>> ReadVidurNetwork(const std::string& path);
// Splitwise's perf_model CSV.
absl::StatusOr<std::vector<EndToEndSample>> ReadSplitwise(const std::string& path);

}  // namespace gpufleet
