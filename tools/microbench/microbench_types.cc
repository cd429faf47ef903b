// Names and classification of microbenchmark ops and dtypes (see microbench_types.h).
#include "tools/microbench/microbench_types.h"

namespace gpufleet::microbench {

const char* OpName(Op op) {
  switch (op) {
    case Op::kGemm: return "gemm";
    case Op::kAttnPrefill: return "attn_prefill";
    case Op::kAttnDecode: return "attn_decode";
    case Op::kHbmCopy: return "hbm_copy";
    case Op::kHbmTriad: return "hbm_triad";
    case Op::kH2D: return "h2d";
    case Op::kD2H: return "d2h";
    case Op::kLaunch: return "launch";
    case Op::kAllReduce: return "all_reduce";
    case Op::kAllGather: return "all_gather";
    case Op::kReduceScatter: return "reduce_scatter";
    case Op::kSendRecv: return "send_recv";
  }
  return "?";
}

const std::vector<Op>& AllOps() {
  static const std::vector<Op> ops = {Op::kGemm,     Op::kAttnPrefill, Op::kAttnDecode, Op::kHbmCopy,
                                      Op::kHbmTriad, Op::kH2D,         Op::kD2H,        Op::kLaunch,
                                      Op::kAllReduce, Op::kAllGather,  Op::kReduceScatter, Op::kSendRecv};
  return ops;
}

std::optional<Op> ParseOp(const std::string& name) {
  for (Op op : AllOps()) {
    if (name == OpName(op)) return op;
  }
  return std::nullopt;
}

const char* DtypeName(Dtype dtype) {
  switch (dtype) {
    case Dtype::kNone: return "";
    case Dtype::kFp16: return "fp16";
    case Dtype::kBf16: return "bf16";
    case Dtype::kFp8: return "fp8";
    case Dtype::kFp32: return "fp32";
  }
  return "?";
}

std::optional<Dtype> ParseDtype(const std::string& name) {
  for (Dtype d : {Dtype::kNone, Dtype::kFp16, Dtype::kBf16, Dtype::kFp8, Dtype::kFp32}) {
    if (name == DtypeName(d)) return d;
  }
  return std::nullopt;
}

int DtypeBytes(Dtype dtype) {
  switch (dtype) {
    case Dtype::kNone: return 0;
    case Dtype::kFp16: return 2;
    case Dtype::kBf16: return 2;
    case Dtype::kFp8: return 1;
    case Dtype::kFp32: return 4;
  }
  return 0;
}

const char* OpGroupName(OpGroup group) {
  switch (group) {
    case OpGroup::kGemm: return "gemm";
    case OpGroup::kAttention: return "attention";
    case OpGroup::kMemory: return "memory";
    case OpGroup::kCollectives: return "collectives";
    case OpGroup::kLaunch: return "launch";
  }
  return "?";
}

const std::vector<OpGroup>& AllOpGroups() {
  static const std::vector<OpGroup> groups = {OpGroup::kGemm, OpGroup::kAttention, OpGroup::kMemory,
                                              OpGroup::kCollectives, OpGroup::kLaunch};
  return groups;
}

std::optional<OpGroup> ParseOpGroup(const std::string& name) {
  for (OpGroup g : AllOpGroups()) {
    if (name == OpGroupName(g)) return g;
  }
  return std::nullopt;
}

bool IsAttention(Op op) { return op == Op::kAttnPrefill || op == Op::kAttnDecode; }
bool IsMemory(Op op) { return op == Op::kHbmCopy || op == Op::kHbmTriad || op == Op::kH2D || op == Op::kD2H; }
bool IsCollective(Op op) {
  return op == Op::kAllReduce || op == Op::kAllGather || op == Op::kReduceScatter || op == Op::kSendRecv;
}

OpGroup GroupOf(Op op) {
  if (op == Op::kGemm) return OpGroup::kGemm;
  if (IsAttention(op)) return OpGroup::kAttention;
  if (IsMemory(op)) return OpGroup::kMemory;
  if (IsCollective(op)) return OpGroup::kCollectives;
  return OpGroup::kLaunch;
}

const char* KernelName(Kernel kernel) {
  switch (kernel) {
    case Kernel::kCublasLt: return "cublaslt";
    case Kernel::kCudnnSdpa: return "cudnn_sdpa";
    case Kernel::kReference: return "reference";
    case Kernel::kStream: return "stream";
    case Kernel::kMemcpy: return "memcpy";
    case Kernel::kEmpty: return "empty";
    case Kernel::kNccl: return "nccl";
  }
  return "";
}

std::optional<Kernel> ParseKernel(const std::string& name) {
  for (Kernel k : {Kernel::kCublasLt, Kernel::kCudnnSdpa, Kernel::kReference, Kernel::kStream, Kernel::kMemcpy,
                   Kernel::kEmpty, Kernel::kNccl}) {
    if (name == KernelName(k)) return k;
  }
  return std::nullopt;
}

Kernel DefaultKernel(Op op) {
  if (op == Op::kGemm) return Kernel::kCublasLt;
  if (IsAttention(op)) return Kernel::kCudnnSdpa;
  if (op == Op::kHbmCopy || op == Op::kHbmTriad) return Kernel::kStream;
  if (op == Op::kH2D || op == Op::kD2H) return Kernel::kMemcpy;
  if (op == Op::kLaunch) return Kernel::kEmpty;
  return Kernel::kNccl;
}

}  // namespace gpufleet::microbench
