// The GPU memory model of a replica: weights, activation reserve and the paged KV cache that fills the rest.
//
// Follows vLLM's accounting: of gpu_memory_utilization x HBM per GPU, the weight shard and the peak
// activation memory of a max_batched_tokens forward pass are reserved; what is left becomes KV blocks of
// block_size tokens. A deployment whose weights do not fit, or whose cache cannot hold one sequence of
// max_model_len tokens, is rejected with the figures that make it impossible.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "models/catalog.h"

namespace gpufleet {

struct MemoryConfig {
  int tensor_parallel = 1;
  int block_size = 16;                  // tokens per KV block
  double gpu_memory_utilization = 0.9;  // share of HBM the engine may use
  int64_t max_batched_tokens = 8192;    // sizes the activation reserve
  int64_t max_batch_size = 256;         // sizes the logits buffer
  int64_t max_model_len = 4096;         // the longest sequence (prompt + output) a replica accepts
};

struct MemoryPlan {
  double weight_bytes_per_gpu = 0;
  double activation_bytes_per_gpu = 0;
  double kv_bytes_per_gpu = 0;
  double kv_bytes_per_token_per_gpu = 0;
  int64_t num_blocks = 0;               // KV blocks per replica (the same on every rank)
  int64_t block_size = 0;
  int64_t token_capacity() const { return num_blocks * block_size; }
};

// Returns the plan, or FailedPrecondition describing why the deployment cannot run.
absl::StatusOr<MemoryPlan> PlanMemory(const LlmSpec& llm, const GpuSpec& gpu, const MemoryConfig& config);

}  // namespace gpufleet
