// cuBLASLt GEMM measurement (see gemm_bench.h).
//
// Row-major C[m][n] = A[m][k] . W[n][k]^T is, in cuBLAS's column-major terms, C^T (n x m) =
// op(W) (n x k) . op(A) (k x m) with W transposed ("TN", which fp8 requires anyway): cuBLASLt's A operand is
// W (k x n column-major, lda = k), its B operand is A (k x m, ldb = k), and D is n x m (ldd = n).
#include "tools/microbench/gemm_bench.h"

#include <cublasLt.h>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/cache_rotation.h"

namespace gpufleet::microbench {
namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

absl::Status LtStatus(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", cublasLtGetStatusName(s), " (", cublasLtGetStatusString(s), ")");
  if (s == CUBLAS_STATUS_NOT_SUPPORTED || s == CUBLAS_STATUS_ARCH_MISMATCH) return absl::UnimplementedError(msg);
  if (s == CUBLAS_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}
#define GF_LT_RETURN_IF_ERROR(expr) GF_RETURN_IF_ERROR(LtStatus((expr), #expr))

// RAII holders for the descriptors of one GEMM.
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Descriptors() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

struct Types {
  cudaDataType_t in, out;
  FillType fill_in, fill_out;
};

absl::StatusOr<Types> TypesFor(Dtype d) {
  switch (d) {
    case Dtype::kFp16: return Types{CUDA_R_16F, CUDA_R_16F, FillType::kF16, FillType::kF16};
    case Dtype::kBf16: return Types{CUDA_R_16BF, CUDA_R_16BF, FillType::kBf16, FillType::kBf16};
    case Dtype::kFp8: return Types{CUDA_R_8F_E4M3, CUDA_R_16BF, FillType::kFp8E4M3, FillType::kBf16};
    default: return absl::InvalidArgumentError(absl::StrCat("gemm dtype '", DtypeName(d), "'; expected fp16, bf16 or fp8"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<GemmBench>> GemmBench::Create(const GpuInfo& gpu, cudaStream_t stream) {
  std::unique_ptr<GemmBench> bench(new GemmBench(gpu, stream));
  cublasLtHandle_t h = nullptr;
  GF_LT_RETURN_IF_ERROR(cublasLtCreate(&h));
  bench->handle_ = h;
  GF_RETURN_IF_ERROR(bench->workspace_.Reserve(kWorkspaceBytes));
  return bench;
}

GemmBench::~GemmBench() {
  if (handle_) cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

absl::StatusOr<TimedResult> GemmBench::Measure(const Measurement& m, const MethodOptions& method,
                                               PowerSampler* sampler) {
  if (m.dtype == Dtype::kFp8 && !gpu_.fp8()) {
    return absl::UnimplementedError(absl::StrCat("fp8 GEMM needs compute capability 8.9+, this GPU is ",
                                                 gpu_.cc_major, ".", gpu_.cc_minor));
  }
  GF_ASSIGN_OR_RETURN(const Types t, TypesFor(m.dtype));
  // Weights cold (rotated copies, each evicted before its next use, as a layer's weights are in a forward
  // pass); activations hot. Copies start on 256-byte boundaries, as allocations do.
  const ColdRotation rotation = RotationFor(m, gpu_.l2_bytes);
  const size_t w_elems = static_cast<size_t>(m.n) * m.k;
  const size_t elem = static_cast<size_t>(DtypeBytes(m.dtype));
  const size_t w_stride = (w_elems * elem + 255) / 256 * 256;
  const size_t copies = static_cast<size_t>(rotation.copies);
  // Inputs in [-1, 1): values, not zeros, so that power draw is representative.
  GF_RETURN_IF_ERROR(a_.ReserveRandom(static_cast<size_t>(m.m) * m.k, t.fill_in, stream_));
  GF_RETURN_IF_ERROR(w_.ReserveRandom(w_stride * copies / elem, t.fill_in, stream_));
  GF_RETURN_IF_ERROR(c_.Reserve(static_cast<size_t>(m.m) * m.n * 2));

  Descriptors d;
  auto lt = static_cast<cublasLtHandle_t>(handle_);
  GF_LT_RETURN_IF_ERROR(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t trans_a = CUBLAS_OP_T, trans_b = CUBLAS_OP_N;
  GF_LT_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof(trans_a)));
  GF_LT_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof(trans_b)));
  if (m.dtype == Dtype::kFp8) {
    const int8_t fast_accum = 1;  // what fp8 inference stacks use
    GF_LT_RETURN_IF_ERROR(
        cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast_accum, sizeof(fast_accum)));
  }
  GF_LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.a, t.in, m.k, m.n, m.k));   // W
  GF_LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.b, t.in, m.k, m.m, m.k));   // A (activations)
  GF_LT_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&d.c, t.out, m.n, m.m, m.n));  // C = D
  GF_LT_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&d.pref));
  const uint64_t ws = kWorkspaceBytes;
  GF_LT_RETURN_IF_ERROR(
      cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  GF_LT_RETURN_IF_ERROR(cublasLtMatmulAlgoGetHeuristic(lt, d.op, d.a, d.b, d.c, d.c, d.pref, 1, &heuristic, &found));
  if (found == 0) return absl::UnimplementedError(absl::StrCat("cuBLASLt has no algorithm for ", m.Describe()));

  const float alpha = 1.0f, beta = 0.0f;
  char* w0 = static_cast<char*>(w_.data());
  void* ap = a_.data();
  void* cp = c_.data();
  void* wsp = workspace_.data();
  cudaStream_t stream = stream_;
  EnqueueFn call = [&](int64_t i) -> absl::Status {
    void* wp = w0 + static_cast<size_t>(i % rotation.copies) * w_stride;
    return LtStatus(cublasLtMatmul(lt, d.op, &alpha, wp, d.a, ap, d.b, &beta, cp, d.c, cp, d.c, &heuristic.algo, wsp,
                                   kWorkspaceBytes, stream),
                    "cublasLtMatmul");
  };
  TimingRequest request;
  request.cycle = rotation.copies;
  request.steady = m.steady;
  return TimeCalls({{gpu_.index, stream_}}, call, method, sampler, request);
}

}  // namespace gpufleet::microbench
