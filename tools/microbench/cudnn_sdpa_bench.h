// Attention measured with a library kernel a serving stack uses: cuDNN 9's fused scaled-dot-product attention
// (the flash-attention class engine, tensor cores), built through the cuDNN backend graph API with cuDNN
// loaded at run time (cudnn_api.h). Same problem definitions as the suite's own kernels (attention_layout.h,
// docs/microbench-csv.md): causal prefill with cached context over contiguous K/V, and decode over a paged
// KV cache of 16-token blocks whose block table is a random permutation. K/V rotate through cold copies
// (cache_rotation.h); Q and O stay hot.
//
// Layouts (fp16 or bf16):
//   prefill  Q, O [batch][q_tokens][heads][head_dim]; K, V [batch][kv_tokens + q_tokens][kv_heads][head_dim]
//            (those of attention_layout.h, so the CPU reference checks the same bytes)
//   decode   Q, O [batch][heads][head_dim]; K, V caches [num_blocks][kv_heads][16][head_dim] (cuDNN's paged
//            container order, heads outside the block, not vLLM's [num_blocks][16][kv_heads][head_dim]);
//            block table [batch][blocks_per_seq] int32, per-sequence lengths int32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/microbench/cudnn_api.h"
#include "tools/microbench/device.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {

// The shape one cuDNN execution plan serves. Prefill: s_kv = kv_tokens + q_tokens. Decode (q_tokens 1):
// the paged container holds num_blocks blocks and every sequence has blocks_per_seq table entries; the keys
// each sequence attends to come from a device array, so one plan serves any lengths up to
// blocks_per_seq * 16.
struct CudnnSdpaShape {
  bool decode = false;
  bool bf16 = false;
  int64_t batch = 1, q_tokens = 1, kv_tokens = 0, heads = 1, kv_heads = 1, head_dim = 64;
  int64_t num_blocks = 0, blocks_per_seq = 0;  // decode only

  auto Key() const {
    return std::make_tuple(decode, bf16, batch, q_tokens, kv_tokens, heads, kv_heads, head_dim, num_blocks,
                           blocks_per_seq);
  }
};

// A finalized execution plan with the unique ids of its graph's inputs and outputs (defined in the .cc).
struct CudnnSdpaPlan;

// Device pointers for one execution. Decode also needs the block table and both sequence-length arrays.
struct CudnnSdpaPointers {
  void* q = nullptr;
  void* k = nullptr;
  void* v = nullptr;
  void* o = nullptr;
  void* block_table = nullptr;  // decode
  void* seq_len_q = nullptr;    // decode: [batch] int32, all 1
  void* seq_len_kv = nullptr;   // decode: [batch] int32, keys per sequence
  void* workspace = nullptr;
};

class CudnnSdpaBench {
 public:
  // Unavailable when cuDNN cannot be loaded (the runner then skips cudnn_sdpa points with that reason);
  // other errors when the handle cannot be created on this GPU.
  static absl::StatusOr<std::unique_ptr<CudnnSdpaBench>> Create(const GpuInfo& gpu, cudaStream_t stream);
  ~CudnnSdpaBench();

  // Ops attn_prefill and attn_decode, dtypes fp16/bf16 (Unimplemented otherwise, or when cuDNN has no engine
  // for the shape, with cuDNN's reason). `l2_bytes` sizes the cold K/V rotation.
  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* sampler,
                                      int64_t l2_bytes);
  std::string Version() const;  // "9.19.0"
  void ReleaseBuffers();

  // The plan for `shape`, built on first use and cached (a bounded number of shapes).
  absl::StatusOr<const CudnnSdpaPlan*> PlanFor(const CudnnSdpaShape& shape);
  // One execution on the bench's stream (asynchronous): what the correctness check runs.
  absl::Status Execute(const CudnnSdpaPlan& plan, const CudnnSdpaPointers& ptrs);
  // Bytes of workspace `plan` needs.
  static int64_t WorkspaceBytes(const CudnnSdpaPlan& plan);

 private:
  CudnnSdpaBench(const GpuInfo& gpu, cudaStream_t stream, std::unique_ptr<Cudnn> dnn, CudnnHandle handle);

  GpuInfo gpu_;
  cudaStream_t stream_;
  // Declared first so that it is destroyed last: the handle and every descriptor call into the library.
  std::unique_ptr<Cudnn> dnn_;
  CudnnHandle handle_;
  std::map<decltype(CudnnSdpaShape().Key()), std::unique_ptr<CudnnSdpaPlan>> plans_;
  DeviceBuffer q_, k_, v_, o_, table_, seq_q_, seq_kv_, workspace_;
};

// Correctness check run at start-up and by --check-only, like attention_check.h: small prefill and decode
// cases (every head dim of attention_layout.h, fp16 and bf16, GQA heads > kv_heads; decode with unequal
// lengths over a shuffled block table), cuDNN's output against the CPU reference (attention_reference.h) on
// the same rounded inputs, one line per case. FailedPrecondition listing the mismatching cases; Unavailable
// when cuDNN cannot be loaded; Unimplemented when cuDNN has no engine for head dim 64 or 128 (other head
// dims without an engine are reported as a line); other errors for CUDA failures.
absl::StatusOr<std::vector<std::string>> CheckCudnnSdpa(const GpuInfo& gpu, cudaStream_t stream);

}  // namespace gpufleet::microbench
