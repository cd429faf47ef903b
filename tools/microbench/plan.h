// The measurement plan: every point the suite measures, derived from the model catalog rather than hand
// listed. GEMM shapes are the per-GPU matrices of one transformer layer (and the LM head) of each selected
// model at each tensor-parallel degree and token count; attention points use each model's per-GPU heads;
// memory and collective points sweep sizes. Host-only; the dry run prints it, the runner measures it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "tools/microbench/method.h"
#include "tools/microbench/microbench_types.h"

namespace gpufleet::microbench {

// One point to measure; the shape fields mean what the CSV columns of the same name mean.
struct Measurement {
  Op op = Op::kGemm;
  Dtype dtype = Dtype::kNone;
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 0, q_tokens = 0, kv_tokens = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t bytes = 0;
  int64_t ranks = 1;
  Kernel kernel = Kernel::kCublasLt;  // the implementation measured (attention has two)
  // Timing forced for this point (the launch op is measured both ways); nullopt: the run's --timing.
  std::optional<TimingMode> timing;
  // Compute-bound (arithmetic intensity at or above PlanOptions::steady_min_intensity): timed over a
  // steady window (method.h) so that clocks and power are the sustained ones.
  bool steady = false;
  // Where the point comes from ("Llama-3-70B tp8 qkv"), all of them when several models share it.
  std::vector<std::string> sources;

  auto Key() const {
    return std::make_tuple(op, dtype, m, n, k, batch, q_tokens, kv_tokens, heads, kv_heads, head_dim, bytes, ranks,
                           kernel, timing.has_value() ? static_cast<int>(*timing) : -1);
  }
  std::string Describe() const;  // "gemm bf16 m=512 n=1280 k=8192"
};

struct PlanOptions {
  std::vector<OpGroup> ops;        // empty = all groups
  std::vector<int> tp;             // TP degrees; a model keeps those that divide its heads
  std::vector<int64_t> tokens;     // GEMM M for the layer matrices (tokens in the batch)
  std::vector<int64_t> lm_head_batches;  // GEMM M for the LM head (sequences sampled)
  std::vector<int64_t> square_sizes;     // plus M = N = K square GEMMs
  std::vector<Dtype> dtypes;       // GEMM dtypes; attention uses the fp16/bf16 ones
  bool fp8_supported = true;       // false drops fp8 with a note (the GPU has no fp8 tensor cores)
  std::vector<int64_t> prefill_q_tokens;   // new tokens per sequence
  std::vector<int64_t> prefill_kv_tokens;  // context already cached
  int64_t prefill_batch = 1;
  std::vector<int64_t> decode_batches;
  std::vector<int64_t> decode_kv_tokens;
  double max_kv_cache_bytes = 0;   // decode points whose paged K+V cache is larger are dropped; 0 = no cap
  std::vector<int64_t> hbm_buffer_bytes;   // buffer size of hbm_copy / hbm_triad (CSV bytes = 2x / 3x)
  std::vector<int64_t> host_copy_bytes;    // h2d / d2h transfer sizes
  std::vector<int64_t> collective_bytes;   // per-rank message sizes
  int64_t ranks = 0;               // GPUs for collectives; fewer than 2 drops them with a note
  // Attention implementations to measure: cuDNN's fused SDPA (what serving stacks run) and/or the suite's
  // own reference kernels.
  std::vector<Kernel> attention_kernels = {Kernel::kCudnnSdpa, Kernel::kReference};
  // FLOP per byte at or above which a GEMM or prefill point is compute-bound and gets the steady window:
  // the bf16 ridge point of the GPU (peak / bandwidth), A100's ~150 by default so that no compute-bound
  // point of any current GPU is missed.
  double steady_min_intensity = 150;

  // The full sweep, or the --quick subset (well under 5 minutes on one H100).
  static PlanOptions Defaults(bool quick);
  bool Selects(OpGroup group) const;  // `ops` empty or containing it
};

struct Plan {
  std::vector<Measurement> points;  // run order: launch, memory, gemm, attention, collectives
  std::vector<std::string> notes;   // what was left out, and why
  std::vector<std::string> models;  // the models the shapes came from
  int64_t Count(Op op) const;
};

// The named catalog models (all of them when `names` is empty); unknown names fail with a hint.
absl::StatusOr<std::vector<LlmSpec>> SelectModels(const Catalog& catalog, const std::vector<std::string>& names);

// One GEMM of a layer: C[m x n] = A[m x k] * W[k x n], per GPU.
struct GemmShape {
  std::string role;  // qkv, o, up, down, lm_head
  int64_t m = 0, n = 0, k = 0;
};
// The TP degrees of `tp` that divide the model's query heads.
std::vector<int> TpDegreesFor(const LlmSpec& model, const std::vector<int>& tp);
// QKV, O, MLP up (gate+up for gated MLPs) and down of one layer for `tokens` tokens at TP degree `tp`.
// For MoE models the MLP matrices are one expert's, with the tokens routed to one expert on average,
// ceil(tokens * experts_per_token / num_experts), plus the router (tokens x num_experts x hidden).
std::vector<GemmShape> LayerGemmShapes(const LlmSpec& model, int tp, int64_t tokens);
GemmShape LmHeadShape(const LlmSpec& model, int tp, int64_t batch);

struct AttentionHeads {
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
};
// Query and KV heads on one GPU: heads / tp and max(1, kv_heads / tp) (KV heads are replicated when tp
// exceeds them).
AttentionHeads PerGpuHeads(const LlmSpec& model, int tp);

// FLOP per byte of DRAM traffic of a GEMM or attention point (0 for other ops): weights, activations and
// output once each; attention's K/V, Q and O once each.
double ArithmeticIntensity(const Measurement& m);
// The vocabulary as serving stacks allocate the LM head: padded to a multiple of 64 (vLLM's
// DEFAULT_VOCAB_PADDING_SIZE) before it is split across TP ranks.
int64_t PaddedVocab(int64_t vocab);

// Bytes of the paged K+V cache a decode point allocates.
double DecodeKvCacheBytes(const Measurement& decode);

absl::StatusOr<Plan> BuildPlan(const std::vector<LlmSpec>& models, const PlanOptions& options);

}  // namespace gpufleet::microbench
