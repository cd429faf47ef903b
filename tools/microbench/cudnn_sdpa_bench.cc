// cuDNN fused SDPA forward through the backend graph API (see cudnn_sdpa_bench.h).
//
// The operation graph is the one the cuDNN frontend's composite SDPA node emits for cuDNN before 9.21, which
// cuDNN's fused flash-attention engine matches as a whole (the frontend is not installed here, so the
// descriptors are built directly):
//
//   S = Q . K^T (matmul, fp32) -> S * scale -> mask -> softmax -> P (io dtype) . V -> O
//   softmax = max-reduce, sub, exp, sum-reduce, div, plus log(sum) + max into a virtual Stats tensor: the
//   frontend emits that branch for inference too, and the engine's pattern is matched with it.
//
// Prefill mask: causal aligned bottom-right (query i of s_q sees keys 0 .. i + s_kv - s_q, i.e. query i at
// position kv_tokens + i sees kv_tokens + i + 1 keys). cuDNN 9.19 has no alignment attribute on this graph
// (the single DIAGONAL_BAND_MASK operation arrives with 9.21), so the mask is the pointwise form the
// frontend lowers it to: row = GEN_INDEX(axis 2) + s_kv - s_q, keep where row >= GEN_INDEX(axis 3), else
// BINARY_SELECT -inf. Bottom-right alignment with s_q != s_kv needs cuDNN 9.6+ on arbitrary lengths.
//
// Decode: K^T and V come from PAGED_CACHE_LOAD operations (cuDNN 9.5+) over the block table. cuDNN accepts
// paged caches only with a padding mask and per-sequence lengths of Q and KV, so the graph also carries
// seq_len_q / seq_len_kv, the matmuls' M/N/K overrides and the padding mask (row < seq_len_q and column <
// seq_len_kv). The maximum KV length of the plan is blocks_per_seq * 16 (cuDNN requires the block table to
// have exactly ceil(s_kv / block) entries); the real lengths are device data.
#include "tools/microbench/cudnn_sdpa_bench.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/attention_layout.h"
#include "tools/microbench/attention_reference.h"
#include "tools/microbench/check_tensors.h"
#include "tools/microbench/cache_rotation.h"

namespace gpufleet::microbench {

struct CudnnSdpaPlan {
  CudnnSdpaShape shape;
  // Every tensor and operation descriptor of the graph, the graph, the heuristics' configurations and the
  // plan: kept for the plan's lifetime (cuDNN documents no ownership transfer between descriptors).
  std::vector<BackendDescriptor> graph;
  BackendDescriptor op_graph;
  std::vector<BackendDescriptor> engine_configs;
  BackendDescriptor plan;
  int64_t workspace_bytes = 0;
  int engine_rank = -1;  // position of the chosen configuration in the heuristics' list
  // Unique ids of the device tensors.
  int64_t uid_q = 0, uid_k = 0, uid_v = 0, uid_o = 0;
  int64_t uid_table_k = 0, uid_table_v = 0, uid_seq_q = 0, uid_seq_kv = 0;  // decode
  // Pass-by-value scalars (scale, -inf, s_kv, s_q): the variant pack points at these host values, which
  // deques keep at stable addresses.
  std::deque<float> float_values;
  std::deque<int32_t> int_values;
  std::vector<std::pair<int64_t, void*>> by_value;
};

namespace {

constexpr int64_t kByteAlignment = 16;     // what the frontend declares for every tensor
constexpr int64_t kCopyAlignment = 256;    // each cold K/V copy starts on this boundary
constexpr size_t kMaxCachedPlans = 64;     // plans hold compiled kernels; a sweep has few repeated shapes
constexpr int64_t kMaxEngineConfigs = 32;  // heuristics list length tried before giving up

std::string DescribeShape(const CudnnSdpaShape& s) {
  if (s.decode) {
    return fmt::format("decode {} batch={} heads={}/{} head_dim={} paged {} blocks, {} per sequence",
                       s.bf16 ? "bf16" : "fp16", s.batch, s.heads, s.kv_heads, s.head_dim, s.num_blocks,
                       s.blocks_per_seq);
  }
  return fmt::format("prefill {} batch={} q_tokens={} kv_tokens={} heads={}/{} head_dim={}", s.bf16 ? "bf16" : "fp16",
                     s.batch, s.q_tokens, s.kv_tokens, s.heads, s.kv_heads, s.head_dim);
}

absl::Status WithContext(const absl::Status& s, const std::string& context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// A tensor of the graph: its descriptor (owned by CudnnSdpaPlan::graph) and unique id.
struct GTensor {
  cudnnBackendDescriptor_t desc = nullptr;
  int64_t uid = 0;
};

// Builds the operation graph's descriptors into a plan, assigning unique ids in creation order.
class GraphBuilder {
 public:
  GraphBuilder(const Cudnn& dnn, CudnnSdpaPlan* plan) : dnn_(dnn), plan_(plan) {}

  absl::StatusOr<GTensor> Tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                                 cudnnDataType_t type, bool is_virtual) {
    return MakeTensor(dims, strides, type, is_virtual, false);
  }
  // A rank-4 tensor of one element passed by value (the variant pack points at host memory).
  absl::StatusOr<GTensor> FloatScalar(float value) {
    GF_ASSIGN_OR_RETURN(GTensor t, MakeTensor({1, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_FLOAT, false, true));
    plan_->float_values.push_back(value);
    plan_->by_value.emplace_back(t.uid, &plan_->float_values.back());
    return t;
  }
  absl::StatusOr<GTensor> IntScalar(int32_t value) {
    GF_ASSIGN_OR_RETURN(GTensor t, MakeTensor({1, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32, false, true));
    plan_->int_values.push_back(value);
    plan_->by_value.emplace_back(t.uid, &plan_->int_values.back());
    return t;
  }

  // y = mode(x[, b[, t]]), computed in `compute`. GEN_INDEX takes the axis whose index it generates.
  absl::Status Pointwise(cudnnPointwiseMode_t mode, cudnnDataType_t compute, const GTensor& x, const GTensor* b,
                         const GTensor* t, const GTensor& y, int64_t axis = -1) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor pw, BackendDescriptor::Create(dnn_, CUDNN_BACKEND_POINTWISE_DESCRIPTOR));
    GF_RETURN_IF_ERROR(pw.Set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode));
    GF_RETURN_IF_ERROR(pw.SetDataType(CUDNN_ATTR_POINTWISE_MATH_PREC, compute));
    if (axis >= 0) GF_RETURN_IF_ERROR(pw.SetInt64(CUDNN_ATTR_POINTWISE_AXIS, axis));
    GF_RETURN_IF_ERROR(pw.Finalize());
    GF_ASSIGN_OR_RETURN(BackendDescriptor op,
                        BackendDescriptor::Create(dnn_, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR));
    GF_RETURN_IF_ERROR(op.SetDescriptor(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x));
    if (b != nullptr) GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b));
    if (t != nullptr) GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, *t));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y));
    GF_RETURN_IF_ERROR(op.Finalize());
    Keep(std::move(pw));
    AddOperation(std::move(op));
    return absl::OkStatus();
  }

  // y = reduce(x) over the dimensions where y has extent 1.
  absl::Status Reduction(cudnnReduceTensorOp_t reduce, const GTensor& x, const GTensor& y) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor rd, BackendDescriptor::Create(dnn_, CUDNN_BACKEND_REDUCTION_DESCRIPTOR));
    GF_RETURN_IF_ERROR(rd.Set(CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &reduce));
    GF_RETURN_IF_ERROR(rd.SetDataType(CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_DATA_FLOAT));
    GF_RETURN_IF_ERROR(rd.Finalize());
    GF_ASSIGN_OR_RETURN(BackendDescriptor op,
                        BackendDescriptor::Create(dnn_, CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y));
    GF_RETURN_IF_ERROR(op.SetDescriptor(CUDNN_ATTR_OPERATION_REDUCTION_DESC, rd));
    GF_RETURN_IF_ERROR(op.Finalize());
    Keep(std::move(rd));
    AddOperation(std::move(op));
    return absl::OkStatus();
  }

  // c = a . b (batched over the leading dims, broadcasting a KV-head dimension across query heads), fp32
  // accumulation; the optional overrides bound M, N, K per batch (padding mask).
  absl::Status Matmul(const GTensor& a, const GTensor& b, const GTensor& c, const GTensor* m_override,
                      const GTensor* n_override, const GTensor* k_override) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor md, BackendDescriptor::Create(dnn_, CUDNN_BACKEND_MATMUL_DESCRIPTOR));
    GF_RETURN_IF_ERROR(md.SetDataType(CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_DATA_FLOAT));
    GF_RETURN_IF_ERROR(md.Finalize());
    GF_ASSIGN_OR_RETURN(BackendDescriptor op,
                        BackendDescriptor::Create(dnn_, CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, b));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, c));
    GF_RETURN_IF_ERROR(op.SetDescriptor(CUDNN_ATTR_OPERATION_MATMUL_DESC, md));
    if (m_override) GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_M_OVERRIDE_DESC, *m_override));
    if (n_override) GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_N_OVERRIDE_DESC, *n_override));
    if (k_override) GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_MATMUL_GEMM_K_OVERRIDE_DESC, *k_override));
    GF_RETURN_IF_ERROR(op.Finalize());
    Keep(std::move(md));
    AddOperation(std::move(op));
    return absl::OkStatus();
  }

  // y (a virtual [b][h][s][d] or, transposed, [b][h][d][s]) gathered from the paged `container` through the
  // page table, up to each sequence's length.
  absl::Status PagedCacheLoad(const GTensor& container, const GTensor& page_table, const GTensor& seq_len,
                              const GTensor& y) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor op,
                        BackendDescriptor::Create(dnn_, CUDNN_BACKEND_OPERATION_PAGED_CACHE_LOAD_DESCRIPTOR));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_PAGED_CACHE_LOAD_CONTAINER_DESC, container));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_PAGED_CACHE_LOAD_PAGE_TABLE_DESC, page_table));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_PAGED_CACHE_LOAD_SEQUENCE_DESC, seq_len));
    GF_RETURN_IF_ERROR(SetTensor(op, CUDNN_ATTR_OPERATION_PAGED_CACHE_LOAD_YDESC, y));
    GF_RETURN_IF_ERROR(op.Finalize());
    AddOperation(std::move(op));
    return absl::OkStatus();
  }

  absl::Status FinalizeGraph(cudnnHandle_t handle) {
    GF_ASSIGN_OR_RETURN(plan_->op_graph, BackendDescriptor::Create(dnn_, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR));
    GF_RETURN_IF_ERROR(plan_->op_graph.SetDescriptors(CUDNN_ATTR_OPERATIONGRAPH_OPS, ops_));
    // Deprecated in cuDNN 9 in favour of device properties, but still what the frontend sets and honoured.
    GF_RETURN_IF_ERROR(plan_->op_graph.Set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle));
    return plan_->op_graph.Finalize();
  }

 private:
  absl::StatusOr<GTensor> MakeTensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                                     cudnnDataType_t type, bool is_virtual, bool by_value) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor t, BackendDescriptor::Create(dnn_, CUDNN_BACKEND_TENSOR_DESCRIPTOR));
    const int64_t uid = next_uid_++;
    GF_RETURN_IF_ERROR(t.SetDataType(CUDNN_ATTR_TENSOR_DATA_TYPE, type));
    GF_RETURN_IF_ERROR(t.SetInt64s(CUDNN_ATTR_TENSOR_DIMENSIONS, dims));
    GF_RETURN_IF_ERROR(t.SetInt64s(CUDNN_ATTR_TENSOR_STRIDES, strides));
    GF_RETURN_IF_ERROR(t.SetInt64(CUDNN_ATTR_TENSOR_UNIQUE_ID, uid));
    GF_RETURN_IF_ERROR(t.SetInt64(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, kByteAlignment));
    if (is_virtual) GF_RETURN_IF_ERROR(t.SetBool(CUDNN_ATTR_TENSOR_IS_VIRTUAL, true));
    if (by_value) GF_RETURN_IF_ERROR(t.SetBool(CUDNN_ATTR_TENSOR_IS_BY_VALUE, true));
    GF_RETURN_IF_ERROR(t.Finalize());
    GTensor g{t.get(), uid};
    Keep(std::move(t));
    return g;
  }

  static absl::Status SetTensor(BackendDescriptor& op, cudnnBackendAttributeName_t name, const GTensor& t) {
    cudnnBackendDescriptor_t d = t.desc;
    return op.Set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d);
  }

  void Keep(BackendDescriptor d) { plan_->graph.push_back(std::move(d)); }
  void AddOperation(BackendDescriptor op) {
    ops_.push_back(op.get());
    Keep(std::move(op));
  }

  const Cudnn& dnn_;
  CudnnSdpaPlan* plan_;
  std::vector<cudnnBackendDescriptor_t> ops_;
  int64_t next_uid_ = 1;
};

// The operation graph of SDPA forward for the plan's shape (see the comment at the top of the file).
absl::Status BuildGraph(const Cudnn& dnn, cudnnHandle_t handle, CudnnSdpaPlan* plan) {
  const CudnnSdpaShape& s = plan->shape;
  GraphBuilder g(dnn, plan);
  const cudnnDataType_t io = s.bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const int64_t b = s.batch, h = s.heads, hk = s.kv_heads, d = s.head_dim;
  const int64_t sq = s.decode ? 1 : s.q_tokens;
  const int64_t skv = s.decode ? s.blocks_per_seq * kPagedBlockSize : s.kv_tokens + s.q_tokens;

  // Q and O [b][s_q][h][d] seen as (b, h, s_q, d).
  const std::vector<int64_t> q_dims = {b, h, sq, d}, q_strides = {sq * h * d, d, h * d, 1};
  GF_ASSIGN_OR_RETURN(GTensor q, g.Tensor(q_dims, q_strides, io, false));
  plan->uid_q = q.uid;

  GTensor kt, v, seq_q, seq_kv, vc, table_v;
  if (!s.decode) {
    // K, V [b][s_kv][hk][d]; the first matmul takes K^T (b, hk, d, s_kv) as a strided view.
    GF_ASSIGN_OR_RETURN(kt, g.Tensor({b, hk, d, skv}, {skv * hk * d, d, 1, hk * d}, io, false));
    GF_ASSIGN_OR_RETURN(v, g.Tensor({b, hk, skv, d}, {skv * hk * d, d, hk * d, 1}, io, false));
    plan->uid_k = kt.uid;
    plan->uid_v = v.uid;
  } else {
    const int64_t nb = s.num_blocks, bs = kPagedBlockSize, pages = s.blocks_per_seq;
    GF_ASSIGN_OR_RETURN(GTensor kc, g.Tensor({nb, hk, bs, d}, {hk * bs * d, bs * d, d, 1}, io, false));
    GF_ASSIGN_OR_RETURN(vc, g.Tensor({nb, hk, bs, d}, {hk * bs * d, bs * d, d, 1}, io, false));
    // The frontend gives K and V their own page-table tensors; both point at the same device table here.
    GF_ASSIGN_OR_RETURN(GTensor table_k, g.Tensor({b, 1, pages, 1}, {pages, pages, 1, 1}, CUDNN_DATA_INT32, false));
    GF_ASSIGN_OR_RETURN(table_v, g.Tensor({b, 1, pages, 1}, {pages, pages, 1, 1}, CUDNN_DATA_INT32, false));
    GF_ASSIGN_OR_RETURN(seq_q, g.Tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32, false));
    GF_ASSIGN_OR_RETURN(seq_kv, g.Tensor({b, 1, 1, 1}, {1, 1, 1, 1}, CUDNN_DATA_INT32, false));
    plan->uid_k = kc.uid;
    plan->uid_v = vc.uid;
    plan->uid_table_k = table_k.uid;
    plan->uid_table_v = table_v.uid;
    plan->uid_seq_q = seq_q.uid;
    plan->uid_seq_kv = seq_kv.uid;
    GF_ASSIGN_OR_RETURN(kt, g.Tensor({b, hk, d, skv}, {d * skv * hk, d * skv, 1, d}, io, true));
    GF_RETURN_IF_ERROR(g.PagedCacheLoad(kc, table_k, seq_kv, kt));
  }
  GF_ASSIGN_OR_RETURN(GTensor o, g.Tensor(q_dims, q_strides, io, false));
  plan->uid_o = o.uid;

  // Scores (b, h, s_q, s_kv) and per-row statistics (b, h, s_q, 1), all virtual.
  const std::vector<int64_t> sd = {b, h, sq, skv}, ss = {h * sq * skv, sq * skv, skv, 1};
  const std::vector<int64_t> rd = {b, h, sq, 1}, rs = {h * sq, sq, 1, 1};
  auto scores = [&](cudnnDataType_t type) { return g.Tensor(sd, ss, type, true); };
  auto rows = [&]() { return g.Tensor(rd, rs, CUDNN_DATA_FLOAT, true); };

  GF_ASSIGN_OR_RETURN(GTensor s0, scores(CUDNN_DATA_FLOAT));
  GF_RETURN_IF_ERROR(g.Matmul(q, kt, s0, s.decode ? &seq_q : nullptr, s.decode ? &seq_kv : nullptr, nullptr));
  GF_ASSIGN_OR_RETURN(GTensor scale, g.FloatScalar(1.0f / std::sqrt(static_cast<float>(d))));
  GF_ASSIGN_OR_RETURN(GTensor s1, scores(CUDNN_DATA_FLOAT));
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_MUL, CUDNN_DATA_FLOAT, s0, &scale, nullptr, s1));

  // Older cuDNN preferred the lowest finite value for masked scores (as the frontend does before 9.10).
  const float masked =
      dnn.version() < 91000 ? std::numeric_limits<float>::lowest() : -std::numeric_limits<float>::infinity();
  GF_ASSIGN_OR_RETURN(GTensor neg_inf, g.FloatScalar(masked));
  GF_ASSIGN_OR_RETURN(GTensor mask, scores(CUDNN_DATA_BOOLEAN));
  if (!s.decode) {
    GF_ASSIGN_OR_RETURN(GTensor row, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, s1, nullptr, nullptr, row, 2));
    GF_ASSIGN_OR_RETURN(GTensor col, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, s1, nullptr, nullptr, col, 3));
    GF_ASSIGN_OR_RETURN(GTensor skv_value, g.IntScalar(static_cast<int32_t>(skv)));
    GF_ASSIGN_OR_RETURN(GTensor row_plus, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_ADD, CUDNN_DATA_INT32, row, &skv_value, nullptr, row_plus));
    GF_ASSIGN_OR_RETURN(GTensor sq_value, g.IntScalar(static_cast<int32_t>(sq)));
    GF_ASSIGN_OR_RETURN(GTensor diagonal, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_SUB, CUDNN_DATA_INT32, row_plus, &sq_value, nullptr, diagonal));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_CMP_GE, CUDNN_DATA_BOOLEAN, diagonal, &col, nullptr, mask));
  } else {
    GF_ASSIGN_OR_RETURN(GTensor row, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_INT32, s1, nullptr, nullptr, row, 2));
    GF_ASSIGN_OR_RETURN(GTensor col, scores(CUDNN_DATA_INT32));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_INT32, s1, nullptr, nullptr, col, 3));
    GF_ASSIGN_OR_RETURN(GTensor row_ok, scores(CUDNN_DATA_BOOLEAN));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_CMP_LT, CUDNN_DATA_BOOLEAN, row, &seq_q, nullptr, row_ok));
    GF_ASSIGN_OR_RETURN(GTensor col_ok, scores(CUDNN_DATA_BOOLEAN));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_CMP_LT, CUDNN_DATA_BOOLEAN, col, &seq_kv, nullptr, col_ok));
    GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_LOGICAL_AND, CUDNN_DATA_BOOLEAN, row_ok, &col_ok, nullptr, mask));
  }
  GF_ASSIGN_OR_RETURN(GTensor s2, scores(CUDNN_DATA_FLOAT));
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_BINARY_SELECT, CUDNN_DATA_FLOAT, s1, &neg_inf, &mask, s2));

  // Softmax.
  GF_ASSIGN_OR_RETURN(GTensor row_max, rows());
  GF_RETURN_IF_ERROR(g.Reduction(CUDNN_REDUCE_TENSOR_MAX, s2, row_max));
  GF_ASSIGN_OR_RETURN(GTensor shifted, scores(CUDNN_DATA_FLOAT));
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_SUB, CUDNN_DATA_FLOAT, s2, &row_max, nullptr, shifted));
  GF_ASSIGN_OR_RETURN(GTensor exps, scores(CUDNN_DATA_FLOAT));
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_EXP, CUDNN_DATA_FLOAT, shifted, nullptr, nullptr, exps));
  GF_ASSIGN_OR_RETURN(GTensor row_sum, rows());
  GF_RETURN_IF_ERROR(g.Reduction(CUDNN_REDUCE_TENSOR_ADD, exps, row_sum));
  GF_ASSIGN_OR_RETURN(GTensor log_sum, rows());
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_LOG, CUDNN_DATA_FLOAT, row_sum, nullptr, nullptr, log_sum));
  GF_ASSIGN_OR_RETURN(GTensor stats, rows());
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_ADD, CUDNN_DATA_FLOAT, row_max, &log_sum, nullptr, stats));
  // The second matmul's A operand is in the I/O type, as cuDNN's engine requires.
  GF_ASSIGN_OR_RETURN(GTensor p, scores(io));
  GF_RETURN_IF_ERROR(g.Pointwise(CUDNN_POINTWISE_DIV, CUDNN_DATA_FLOAT, exps, &row_sum, nullptr, p));

  if (s.decode) {
    // Operations in the frontend's order: V is gathered just before the matmul that reads it.
    GF_ASSIGN_OR_RETURN(v, g.Tensor({b, hk, skv, d}, {d * skv * hk, d * skv, d, 1}, io, true));
    GF_RETURN_IF_ERROR(g.PagedCacheLoad(vc, table_v, seq_kv, v));
  }
  GF_RETURN_IF_ERROR(g.Matmul(p, v, o, s.decode ? &seq_q : nullptr, nullptr, s.decode ? &seq_kv : nullptr));
  return g.FinalizeGraph(handle);
}

// Engine selection: heuristics mode A, then the configurations in order until one finalizes into a plan.
absl::Status SelectPlan(const Cudnn& dnn, cudnnHandle_t handle, CudnnSdpaPlan* plan) {
  GF_ASSIGN_OR_RETURN(BackendDescriptor heur, BackendDescriptor::Create(dnn, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR));
  GF_RETURN_IF_ERROR(heur.SetDescriptor(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, plan->op_graph));
  cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  GF_RETURN_IF_ERROR(heur.Set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
  GF_RETURN_IF_ERROR(heur.Finalize());
  int64_t available = 0;
  GF_RETURN_IF_ERROR(dnn.Check(dnn.api().backend_get_attribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &available, nullptr),
                               "cudnnBackendGetAttribute(ENGINEHEUR_RESULTS count)"));
  if (available <= 0) return absl::UnimplementedError("cuDNN heuristics offer no engine for this graph");
  const int64_t n = std::min(available, kMaxEngineConfigs);
  std::vector<cudnnBackendDescriptor_t> raw;
  for (int64_t i = 0; i < n; ++i) {
    GF_ASSIGN_OR_RETURN(BackendDescriptor cfg, BackendDescriptor::Create(dnn, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
    raw.push_back(cfg.get());
    plan->engine_configs.push_back(std::move(cfg));
  }
  int64_t returned = 0;
  GF_RETURN_IF_ERROR(
      dnn.Check(dnn.api().backend_get_attribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, n, &returned, raw.data()),
                "cudnnBackendGetAttribute(ENGINEHEUR_RESULTS)"));
  const int64_t tried = std::min(returned, n);
  std::vector<std::string> refusals;
  for (int64_t i = 0; i < tried; ++i) {
    auto candidate = BackendDescriptor::Create(dnn, CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    if (!candidate.ok()) return candidate.status();
    absl::Status s = candidate->Set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
    if (s.ok()) s = candidate->SetDescriptor(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, plan->engine_configs[i]);
    if (s.ok()) s = candidate->Finalize();
    if (!s.ok()) {
      // A configuration can be refused here (shared memory, a kernel that does not compile); the next may not.
      refusals.push_back(absl::StrCat("#", i, ": ", s.message()));
      continue;
    }
    GF_ASSIGN_OR_RETURN(plan->workspace_bytes, candidate->GetInt64(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE));
    if (plan->workspace_bytes < 0) return absl::InternalError("cuDNN reported a negative workspace size");
    plan->plan = std::move(*candidate);
    plan->engine_rank = static_cast<int>(i);
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrCat("no cuDNN engine configuration finalizes (", tried,
                                               " tried): ", absl::StrJoin(refusals, "; ")));
}

absl::StatusOr<BackendDescriptor> MakeVariantPack(const Cudnn& dnn, const CudnnSdpaPlan& plan,
                                                  const CudnnSdpaPointers& p) {
  std::vector<int64_t> uids = {plan.uid_q, plan.uid_k, plan.uid_v, plan.uid_o};
  std::vector<void*> ptrs = {p.q, p.k, p.v, p.o};
  if (plan.shape.decode) {
    uids.insert(uids.end(), {plan.uid_table_k, plan.uid_table_v, plan.uid_seq_q, plan.uid_seq_kv});
    ptrs.insert(ptrs.end(), {p.block_table, p.block_table, p.seq_len_q, p.seq_len_kv});
  }
  for (void* ptr : ptrs) {
    if (ptr == nullptr) return absl::InvalidArgumentError("cuDNN SDPA variant pack: a device pointer is null");
  }
  for (const auto& [uid, host] : plan.by_value) {
    uids.push_back(uid);
    ptrs.push_back(host);
  }
  if (plan.workspace_bytes > 0 && p.workspace == nullptr) {
    return absl::InvalidArgumentError("cuDNN SDPA variant pack: the plan needs a workspace");
  }
  GF_ASSIGN_OR_RETURN(BackendDescriptor pack, BackendDescriptor::Create(dnn, CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR));
  GF_RETURN_IF_ERROR(pack.SetInt64s(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, uids));
  GF_RETURN_IF_ERROR(pack.Set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                              static_cast<int64_t>(ptrs.size()), ptrs.data()));
  void* workspace = p.workspace;
  GF_RETURN_IF_ERROR(pack.Set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace));
  GF_RETURN_IF_ERROR(pack.Finalize());
  return pack;
}

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

}  // namespace

// --- CudnnSdpaBench ---

absl::StatusOr<std::unique_ptr<CudnnSdpaBench>> CudnnSdpaBench::Create(const GpuInfo& gpu, cudaStream_t stream) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<Cudnn> dnn, Cudnn::Load());
  GF_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu.index));
  GF_ASSIGN_OR_RETURN(CudnnHandle handle, CudnnHandle::Create(*dnn));
  GF_RETURN_IF_ERROR(handle.SetStream(stream));
  return std::unique_ptr<CudnnSdpaBench>(new CudnnSdpaBench(gpu, stream, std::move(dnn), std::move(handle)));
}

CudnnSdpaBench::CudnnSdpaBench(const GpuInfo& gpu, cudaStream_t stream, std::unique_ptr<Cudnn> dnn,
                               CudnnHandle handle)
    : gpu_(gpu), stream_(stream), dnn_(std::move(dnn)), handle_(std::move(handle)) {}

CudnnSdpaBench::~CudnnSdpaBench() {
  // Plans and the handle call into the library; release them before dnn_ unloads it (member order does the
  // rest, this states the dependency).
  plans_.clear();
}

std::string CudnnSdpaBench::Version() const { return dnn_->VersionString(); }

void CudnnSdpaBench::ReleaseBuffers() {
  for (DeviceBuffer* b : {&q_, &k_, &v_, &o_, &table_, &seq_q_, &seq_kv_, &workspace_}) b->Release();
}

int64_t CudnnSdpaBench::WorkspaceBytes(const CudnnSdpaPlan& plan) { return plan.workspace_bytes; }

absl::StatusOr<const CudnnSdpaPlan*> CudnnSdpaBench::PlanFor(const CudnnSdpaShape& shape) {
  const auto key = shape.Key();
  if (auto it = plans_.find(key); it != plans_.end()) return it->second.get();
  const std::string context = absl::StrCat("cuDNN ", Version(), " SDPA ", DescribeShape(shape));
  if (shape.batch <= 0 || shape.heads <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0 || shape.q_tokens <= 0 ||
      shape.kv_tokens < 0 || shape.heads % shape.kv_heads != 0 ||
      (shape.decode && (shape.q_tokens != 1 || shape.blocks_per_seq <= 0 || shape.num_blocks <= 0))) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": not a valid attention shape"));
  }
  if (shape.head_dim % 8 != 0) {
    // Rows of Q/K/V must be 16-byte aligned for the tensor-core engine.
    return absl::UnimplementedError(absl::StrCat(context, ": head_dim must be a multiple of 8"));
  }
  const int64_t skv = shape.decode ? shape.blocks_per_seq * kPagedBlockSize : shape.kv_tokens + shape.q_tokens;
  // The support surface the frontend enforces for these graphs, so that older libraries answer with a reason
  // rather than a wrong result.
  const size_t version = dnn_->version();
  if (version == 91000 || version == 91001) {
    return absl::UnimplementedError(
        absl::StrCat(context, ": fp16/bf16 SDPA forward has known bugs in cuDNN 9.10.0/9.10.1; use 9.10.2 or newer"));
  }
  if (shape.decode && version < 90500) {
    return absl::UnimplementedError(absl::StrCat(context, ": paged K/V caches need cuDNN 9.5 or newer"));
  }
  if (!shape.decode && version < 90600 && (shape.q_tokens % 64 != 0 || skv % 64 != 0)) {
    return absl::UnimplementedError(absl::StrCat(
        context, ": before cuDNN 9.6 a bottom-right causal mask needs q_tokens and kv_tokens + q_tokens in 64s"));
  }
  if (skv > std::numeric_limits<int32_t>::max()) {
    return absl::UnimplementedError(absl::StrCat(context, ": sequence too long for int32 lengths"));
  }
  auto plan = std::make_unique<CudnnSdpaPlan>();
  plan->shape = shape;
  GF_RETURN_IF_ERROR(WithContext(BuildGraph(*dnn_, handle_.get(), plan.get()), context));
  GF_RETURN_IF_ERROR(WithContext(SelectPlan(*dnn_, handle_.get(), plan.get()), context));
  if (plans_.size() >= kMaxCachedPlans) plans_.clear();
  const CudnnSdpaPlan* result = plan.get();
  plans_.emplace(key, std::move(plan));
  return result;
}

absl::Status CudnnSdpaBench::Execute(const CudnnSdpaPlan& plan, const CudnnSdpaPointers& ptrs) {
  GF_ASSIGN_OR_RETURN(BackendDescriptor pack, MakeVariantPack(*dnn_, plan, ptrs));
  return dnn_->Check(dnn_->api().backend_execute(handle_.get(), plan.plan.get(), pack.get()), "cudnnBackendExecute");
}

absl::StatusOr<TimedResult> CudnnSdpaBench::Measure(const Measurement& m, const MethodOptions& method,
                                                    PowerSampler* sampler, int64_t l2_bytes) {
  if (m.op != Op::kAttnPrefill && m.op != Op::kAttnDecode) {
    return absl::InvalidArgumentError(absl::StrCat("CudnnSdpaBench cannot measure ", OpName(m.op)));
  }
  if (m.dtype != Dtype::kFp16 && m.dtype != Dtype::kBf16) {
    return absl::UnimplementedError(absl::StrCat("cuDNN SDPA is measured in fp16/bf16, not ", DtypeName(m.dtype)));
  }
  GF_CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_.index));
  const bool decode = m.op == Op::kAttnDecode;
  CudnnSdpaShape shape;
  shape.decode = decode;
  shape.bf16 = m.dtype == Dtype::kBf16;
  shape.batch = m.batch;
  shape.heads = m.heads;
  shape.kv_heads = m.kv_heads;
  shape.head_dim = m.head_dim;
  const int64_t context = m.kv_tokens + 1;  // decode: the new token's K/V is in the cache
  if (decode) {
    shape.q_tokens = 1;
    shape.blocks_per_seq = (context + kPagedBlockSize - 1) / kPagedBlockSize;
    shape.num_blocks = m.batch * shape.blocks_per_seq;
  } else {
    shape.q_tokens = m.q_tokens;
    shape.kv_tokens = m.kv_tokens;
  }
  GF_ASSIGN_OR_RETURN(const CudnnSdpaPlan* plan, PlanFor(shape));

  const FillType fill = shape.bf16 ? FillType::kBf16 : FillType::kF16;
  const int64_t e = 2;  // fp16 / bf16
  const int64_t q_elems = m.batch * shape.q_tokens * m.heads * m.head_dim;
  const int64_t kv_elems = decode ? shape.num_blocks * kPagedBlockSize * m.kv_heads * m.head_dim
                                  : m.batch * (m.kv_tokens + m.q_tokens) * m.kv_heads * m.head_dim;
  const ColdRotation rotation = RotationFor(m, l2_bytes);
  const int64_t copies = std::max<int64_t>(1, rotation.copies);
  const int64_t copy_stride = RoundUp(kv_elems * e, kCopyAlignment);  // bytes between copies
  const size_t slab_elems = static_cast<size_t>(copy_stride * copies / e);
  GF_RETURN_IF_ERROR(q_.ReserveRandom(static_cast<size_t>(q_elems), fill, stream_));
  GF_RETURN_IF_ERROR(k_.ReserveRandom(slab_elems, fill, stream_));
  GF_RETURN_IF_ERROR(v_.ReserveRandom(slab_elems, fill, stream_));
  GF_RETURN_IF_ERROR(o_.Reserve(static_cast<size_t>(q_elems * e)));
  if (plan->workspace_bytes > 0) GF_RETURN_IF_ERROR(workspace_.Reserve(static_cast<size_t>(plan->workspace_bytes)));

  CudnnSdpaPointers base;
  base.q = q_.data();
  base.o = o_.data();
  base.workspace = plan->workspace_bytes > 0 ? workspace_.data() : nullptr;
  if (decode) {
    // A long-running server's allocator leaves the block table a permutation (as AttentionBench does).
    std::vector<int32_t> table(static_cast<size_t>(shape.num_blocks));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(12345));
    const std::vector<int32_t> ones(static_cast<size_t>(m.batch), 1);
    const std::vector<int32_t> lens(static_cast<size_t>(m.batch), static_cast<int32_t>(context));
    GF_RETURN_IF_ERROR(table_.Reserve(table.size() * sizeof(int32_t)));
    GF_RETURN_IF_ERROR(seq_q_.Reserve(ones.size() * sizeof(int32_t)));
    GF_RETURN_IF_ERROR(seq_kv_.Reserve(lens.size() * sizeof(int32_t)));
    GF_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(table_.data(), table.data(), table.size() * sizeof(int32_t),
                                            cudaMemcpyHostToDevice, stream_));
    GF_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(seq_q_.data(), ones.data(), ones.size() * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    GF_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(seq_kv_.data(), lens.data(), lens.size() * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));  // the host vectors go out of scope
    base.block_table = table_.data();
    base.seq_len_q = seq_q_.data();
    base.seq_len_kv = seq_kv_.data();
  }
  // One variant pack per cold copy, built before timing: the enqueue only executes (it may be captured).
  std::vector<BackendDescriptor> packs;
  packs.reserve(static_cast<size_t>(copies));
  for (int64_t c = 0; c < copies; ++c) {
    CudnnSdpaPointers p = base;
    p.k = static_cast<char*>(k_.data()) + c * copy_stride;
    p.v = static_cast<char*>(v_.data()) + c * copy_stride;
    GF_ASSIGN_OR_RETURN(BackendDescriptor pack, MakeVariantPack(*dnn_, *plan, p));
    packs.push_back(std::move(pack));
  }
  const Cudnn* dnn = dnn_.get();
  const cudnnHandle_t handle = handle_.get();
  const cudnnBackendDescriptor_t exec_plan = plan->plan.get();
  const std::vector<BackendDescriptor>* pack_list = &packs;
  const EnqueueFn enqueue = [=](int64_t call) -> absl::Status {
    const cudnnBackendDescriptor_t pack = (*pack_list)[static_cast<size_t>(call % copies)].get();
    const cudnnStatus_t st = dnn->api().backend_execute(handle, exec_plan, pack);
    if (st == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
    return dnn->Check(st, "cudnnBackendExecute");
  };
  TimingRequest request;
  request.calls_per_enqueue = 1;
  request.cycle = copies;
  request.steady = m.steady;
  return TimeCalls({TimedStream{gpu_.index, stream_}}, enqueue, method, sampler, request);
}

// --- Correctness check ---

namespace {

// As attention_check.cc: output rounding dominates (fp16 keeps 11 significant bits, bf16 8); cuDNN also
// rounds the probabilities to the I/O type before the second matmul, well inside these bounds.
double Rtol(bool bf16) { return bf16 ? 2e-2 : 4e-3; }
double Atol(bool bf16) { return bf16 ? 1e-2 : 2e-3; }

// O filled with NaN bits first, so that rows cuDNN leaves unwritten fail the comparison.
absl::Status PoisonOutput(DeviceBuffer& out, size_t n) {
  GF_RETURN_IF_ERROR(out.Reserve(n * 2));
  return CudaStatus(cudaMemset(out.data(), 0xFF, n * 2), "cudaMemset");
}

absl::StatusOr<Comparison> CheckPrefill(CudnnSdpaBench& bench, const AttentionShape& s, bool bf16, cudaStream_t stream,
                                        std::mt19937& rng) {
  CudnnSdpaShape shape;
  shape.bf16 = bf16;
  shape.batch = s.batch;
  shape.q_tokens = s.q_tokens;
  shape.kv_tokens = s.kv_tokens;
  shape.heads = s.heads;
  shape.kv_heads = s.kv_heads;
  shape.head_dim = s.head_dim;
  GF_ASSIGN_OR_RETURN(const CudnnSdpaPlan* plan, bench.PlanFor(shape));
  const size_t qn = size_t(s.batch) * s.q_tokens * s.heads * s.head_dim;
  const size_t kvn = size_t(s.batch) * (s.kv_tokens + s.q_tokens) * s.kv_heads * s.head_dim;
  HostTensor q = RandomTensor(qn, bf16, rng), k = RandomTensor(kvn, bf16, rng), v = RandomTensor(kvn, bf16, rng);
  DeviceBuffer dq, dk, dv, dout, dws;
  GF_RETURN_IF_ERROR(Upload(dq, q.bits.data(), qn * 2));
  GF_RETURN_IF_ERROR(Upload(dk, k.bits.data(), kvn * 2));
  GF_RETURN_IF_ERROR(Upload(dv, v.bits.data(), kvn * 2));
  GF_RETURN_IF_ERROR(PoisonOutput(dout, qn));
  const int64_t ws = CudnnSdpaBench::WorkspaceBytes(*plan);
  if (ws > 0) GF_RETURN_IF_ERROR(dws.Reserve(static_cast<size_t>(ws)));
  CudnnSdpaPointers p;
  p.q = dq.data();
  p.k = dk.data();
  p.v = dv.data();
  p.o = dout.data();
  p.workspace = ws > 0 ? dws.data() : nullptr;
  GF_RETURN_IF_ERROR(bench.Execute(*plan, p));
  GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  GF_ASSIGN_OR_RETURN(std::vector<float> got, Download(dout, qn, bf16));
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  return CompareOutputs(got, PrefillReference(s, q.values, k.values, v.values, scale), Atol(bf16), Rtol(bf16));
}

// Decode over a shuffled paged cache with unequal lengths (one plan serves them: lengths are device data).
absl::StatusOr<Comparison> CheckDecode(CudnnSdpaBench& bench, const std::vector<int>& lens, int heads, int kv_heads,
                                       int d, bool bf16, cudaStream_t stream, std::mt19937& rng) {
  AttentionShape s{.batch = static_cast<int>(lens.size()),
                   .q_tokens = 1,
                   .kv_tokens = 0,
                   .heads = heads,
                   .kv_heads = kv_heads,
                   .head_dim = d};
  const PagedKvLayout kv = ShuffledPagedLayout(lens, kPagedBlockSize, rng);
  CudnnSdpaShape shape;
  shape.decode = true;
  shape.bf16 = bf16;
  shape.batch = s.batch;
  shape.q_tokens = 1;
  shape.heads = heads;
  shape.kv_heads = kv_heads;
  shape.head_dim = d;
  shape.num_blocks = kv.num_blocks;
  shape.blocks_per_seq = kv.max_blocks_per_seq;
  GF_ASSIGN_OR_RETURN(const CudnnSdpaPlan* plan, bench.PlanFor(shape));

  // Device caches in cuDNN's container order [block][kv_head][slot][d]; the reference reads vLLM's
  // [block][slot][kv_head][d], so it gets the same values transposed.
  const size_t cache = size_t(kv.num_blocks) * kPagedBlockSize * kv_heads * d;
  const size_t qn = size_t(s.batch) * heads * d;
  HostTensor q = RandomTensor(qn, bf16, rng), kc = RandomTensor(cache, bf16, rng), vc = RandomTensor(cache, bf16, rng);
  auto to_reference = [&](const std::vector<float>& dev) {
    std::vector<float> ref(dev.size());
    for (int blk = 0; blk < kv.num_blocks; ++blk) {
      for (int hh = 0; hh < kv_heads; ++hh) {
        for (int slot = 0; slot < kPagedBlockSize; ++slot) {
          const size_t from = ((size_t(blk) * kv_heads + hh) * kPagedBlockSize + slot) * d;
          const size_t to = ((size_t(blk) * kPagedBlockSize + slot) * kv_heads + hh) * d;
          std::copy(dev.begin() + from, dev.begin() + from + d, ref.begin() + to);
        }
      }
    }
    return ref;
  };
  const std::vector<int32_t> ones(lens.size(), 1);
  DeviceBuffer dq, dk, dv, dout, dtable, dseq_q, dseq_kv, dws;
  GF_RETURN_IF_ERROR(Upload(dq, q.bits.data(), qn * 2));
  GF_RETURN_IF_ERROR(Upload(dk, kc.bits.data(), cache * 2));
  GF_RETURN_IF_ERROR(Upload(dv, vc.bits.data(), cache * 2));
  GF_RETURN_IF_ERROR(Upload(dtable, kv.block_table.data(), kv.block_table.size() * 4));
  GF_RETURN_IF_ERROR(Upload(dseq_q, ones.data(), ones.size() * 4));
  GF_RETURN_IF_ERROR(Upload(dseq_kv, kv.context_lens.data(), kv.context_lens.size() * 4));
  GF_RETURN_IF_ERROR(PoisonOutput(dout, qn));
  const int64_t ws = CudnnSdpaBench::WorkspaceBytes(*plan);
  if (ws > 0) GF_RETURN_IF_ERROR(dws.Reserve(static_cast<size_t>(ws)));
  CudnnSdpaPointers p;
  p.q = dq.data();
  p.k = dk.data();
  p.v = dv.data();
  p.o = dout.data();
  p.block_table = dtable.data();
  p.seq_len_q = dseq_q.data();
  p.seq_len_kv = dseq_kv.data();
  p.workspace = ws > 0 ? dws.data() : nullptr;
  GF_RETURN_IF_ERROR(bench.Execute(*plan, p));
  GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  GF_ASSIGN_OR_RETURN(std::vector<float> got, Download(dout, qn, bf16));
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  return CompareOutputs(got, DecodeReference(s, kv, q.values, to_reference(kc.values), to_reference(vc.values), scale),
                        Atol(bf16), Rtol(bf16));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CheckCudnnSdpa(const GpuInfo& gpu, cudaStream_t stream) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<CudnnSdpaBench> bench, CudnnSdpaBench::Create(gpu, stream));
  std::mt19937 rng(2025);
  std::vector<std::string> lines, failures;
  const std::vector<int> decode_lens = {1, 100, 1100};  // one block, a partial block, many blocks
  // Head dims 64 and 128 are what the measured models use most and must work; the others are reported as
  // unsupported when cuDNN has no engine for them (their points are then skipped the same way).
  auto required = [](int d) { return d == 64 || d == 128; };
  auto record = [&](const absl::StatusOr<Comparison>& c, int d, const std::string& label) -> absl::Status {
    if (!c.ok()) {
      if (c.status().code() == absl::StatusCode::kUnimplemented && !required(d)) {
        lines.push_back(absl::StrCat(label, ": not supported by cuDNN (", c.status().message(), ")"));
        return absl::OkStatus();
      }
      return c.status();
    }
    lines.push_back(absl::StrCat(label, ": ", c->Describe()));
    if (!c->ok) failures.push_back(lines.back());
    return absl::OkStatus();
  };
  lines.push_back(absl::StrCat("cuDNN ", bench->Version()));
  for (bool bf16 : {false, true}) {
    const char* tn = bf16 ? "bf16" : "fp16";
    for (int d : kAttentionHeadDims) {
      AttentionShape pre{.batch = 2, .q_tokens = 37, .kv_tokens = 19, .heads = 4, .kv_heads = 2, .head_dim = d};
      GF_RETURN_IF_ERROR(
          record(CheckPrefill(*bench, pre, bf16, stream, rng), d,
                 fmt::format("cudnn prefill {} d={:<3} batch 2, 37 new + 19 cached tokens, 4/2 heads", tn, d)));
      GF_RETURN_IF_ERROR(
          record(CheckDecode(*bench, decode_lens, 8, 2, d, bf16, stream, rng), d,
                 fmt::format("cudnn decode  {} d={:<3} batch 3, 1/100/1100 paged keys, 8/2 heads ", tn, d)));
    }
    // Several query and key tiles, no cached context (s_q == s_kv), and one KV head for eight query heads.
    AttentionShape big{.batch = 1, .q_tokens = 200, .kv_tokens = 0, .heads = 8, .kv_heads = 1, .head_dim = 128};
    GF_RETURN_IF_ERROR(
        record(CheckPrefill(*bench, big, bf16, stream, rng), 128,
               fmt::format("cudnn prefill {} d=128 batch 1, 200 new + 0 cached tokens, 8/1 heads", tn)));
    AttentionShape ctx{.batch = 1, .q_tokens = 70, .kv_tokens = 300, .heads = 8, .kv_heads = 1, .head_dim = 128};
    GF_RETURN_IF_ERROR(
        record(CheckPrefill(*bench, ctx, bf16, stream, rng), 128,
               fmt::format("cudnn prefill {} d=128 batch 1, 70 new + 300 cached tokens, 8/1 heads", tn)));
  }
  if (!failures.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cuDNN SDPA disagrees with the CPU reference:\n  ", absl::StrJoin(failures, "\n  ")));
  }
  return lines;
}

}  // namespace gpufleet::microbench
