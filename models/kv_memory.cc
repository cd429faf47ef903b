// Replica memory accounting (see kv_memory.h).
#include "models/kv_memory.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace gpufleet {

absl::StatusOr<MemoryPlan> PlanMemory(const LlmSpec& llm, const GpuSpec& gpu, const MemoryConfig& c) {
  const int tp = c.tensor_parallel;
  if (llm.heads % tp != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s has %d attention heads, not divisible by tensor_parallel %d", llm.name, llm.heads, tp));
  }
  if (llm.kv_heads % tp != 0 && tp % llm.kv_heads != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s has %d KV heads: tensor_parallel %d neither divides them nor is a multiple of them", llm.name,
        llm.kv_heads, tp));
  }
  MemoryPlan plan;
  plan.block_size = c.block_size;
  plan.weight_bytes_per_gpu = llm.WeightBytes() / tp;
  // Peak activations of one forward pass over max_batched_tokens: the hidden state and its residual,
  // the QKV output, the MLP intermediate (two halves when gated), in the model dtype; plus fp32 logits
  // for the batch's last positions.
  const double per_token = (4.0 * llm.hidden + (llm.heads + 2.0 * llm.kv_heads) * llm.head_dim / tp +
                            (llm.gated_mlp ? 2.0 : 1.0) * llm.ffn / tp) * llm.dtype_bytes();
  plan.activation_bytes_per_gpu =
      per_token * static_cast<double>(c.max_batched_tokens) + 4.0 * llm.vocab / tp * static_cast<double>(c.max_batch_size);
  const double kv_heads_local = std::max(1.0, static_cast<double>(llm.kv_heads) / tp);
  plan.kv_bytes_per_token_per_gpu = 2.0 * llm.layers * kv_heads_local * llm.head_dim * llm.dtype_bytes();

  const double usable = gpu.hbm_gb * 1e9 * c.gpu_memory_utilization;
  plan.kv_bytes_per_gpu = usable - plan.weight_bytes_per_gpu - plan.activation_bytes_per_gpu;
  if (plan.kv_bytes_per_gpu <= 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s does not fit on %s at tensor_parallel %d: %.1f GB of weights and %.1f GB of activations per "
        "GPU, but only %.1f GB usable (%.0f GB x gpu_memory_utilization %.2f)",
        llm.name, gpu.name, tp, plan.weight_bytes_per_gpu / 1e9, plan.activation_bytes_per_gpu / 1e9,
        usable / 1e9, gpu.hbm_gb, c.gpu_memory_utilization));
  }
  plan.num_blocks = static_cast<int64_t>(
      std::floor(plan.kv_bytes_per_gpu / (plan.kv_bytes_per_token_per_gpu * c.block_size)));
  const int64_t needed = (c.max_model_len + c.block_size - 1) / c.block_size;
  if (plan.num_blocks < needed) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s on %s at tensor_parallel %d leaves room for %d KV tokens per replica, fewer than one "
        "sequence of max_model_len %d",
        llm.name, gpu.name, tp, plan.num_blocks * c.block_size, c.max_model_len));
  }
  return plan;
}

}  // namespace gpufleet
