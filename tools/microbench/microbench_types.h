// The vocabulary shared by the microbenchmark plan, runner and CSV: measured operations, data types and
// the op groups that `--ops` selects. Names match docs/microbench-csv.md exactly.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gpufleet::microbench {

// One CSV `op` value.
enum class Op {
  kGemm,
  kAttnPrefill,
  kAttnDecode,
  kHbmCopy,
  kHbmTriad,
  kH2D,
  kD2H,
  kLaunch,
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kSendRecv,
};

// One CSV `dtype` value; kNone is the empty field (memory and launch ops).
enum class Dtype { kNone, kFp16, kBf16, kFp8, kFp32 };

// Which implementation a row measured (CSV `kernel`): the library kernels a serving stack runs, or the
// suite's own reference kernels.
enum class Kernel {
  kCublasLt,   // gemm
  kCudnnSdpa,  // attention: cuDNN's fused scaled-dot-product attention (flash-attention class, tensor cores)
  kReference,  // attention: the suite's own CUDA-core kernels (attention_kernels.cu), a labelled reference
  kStream,     // hbm_copy, hbm_triad: the suite's streaming kernels
  kMemcpy,     // h2d, d2h: cudaMemcpyAsync
  kEmpty,      // launch: an empty kernel
  kNccl,       // collectives
};
const char* KernelName(Kernel kernel);
std::optional<Kernel> ParseKernel(const std::string& name);
// The kernel an op is measured with when it has only one.
Kernel DefaultKernel(Op op);

// What `--ops` selects: several CSV ops each.
enum class OpGroup { kGemm, kAttention, kMemory, kCollectives, kLaunch };

const char* OpName(Op op);
std::optional<Op> ParseOp(const std::string& name);
const std::vector<Op>& AllOps();

const char* DtypeName(Dtype dtype);  // "" for kNone
std::optional<Dtype> ParseDtype(const std::string& name);  // "" parses as kNone
int DtypeBytes(Dtype dtype);  // element size; 0 for kNone

const char* OpGroupName(OpGroup group);
std::optional<OpGroup> ParseOpGroup(const std::string& name);
const std::vector<OpGroup>& AllOpGroups();
OpGroup GroupOf(Op op);

bool IsAttention(Op op);
bool IsMemory(Op op);      // hbm_copy, hbm_triad, h2d, d2h
bool IsCollective(Op op);  // all_reduce, all_gather, reduce_scatter, send_recv

}  // namespace gpufleet::microbench
