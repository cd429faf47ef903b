// NCCL collective measurements (see collectives_bench.h).
#include "tools/microbench/collectives_bench.h"

#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"

#if GPUFLEET_MICROBENCH_HAVE_NCCL
#include <nccl.h>
#endif

namespace gpufleet::microbench {

#if GPUFLEET_MICROBENCH_HAVE_NCCL
namespace {

absl::Status NcclStatus(ncclResult_t r, const char* what) {
  if (r == ncclSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", ncclGetErrorString(r)));
}

ncclComm_t Comm(void* c) { return static_cast<ncclComm_t>(c); }

}  // namespace

absl::StatusOr<std::unique_ptr<CollectivesBench>> CollectivesBench::Create(const std::vector<GpuInfo>& gpus) {
  if (gpus.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat("collectives need at least 2 GPUs; ", gpus.size(), " visible"));
  }
  std::unique_ptr<CollectivesBench> bench(new CollectivesBench(gpus));
  std::vector<int> devs;
  for (const GpuInfo& g : gpus) devs.push_back(g.index);
  std::vector<ncclComm_t> comms(gpus.size(), nullptr);
  GF_RETURN_IF_ERROR(NcclStatus(ncclCommInitAll(comms.data(), static_cast<int>(devs.size()), devs.data()),
                                "ncclCommInitAll"));
  for (ncclComm_t c : comms) bench->comms_.push_back(c);
  for (const GpuInfo& g : gpus) {
    GF_CUDA_RETURN_IF_ERROR(cudaSetDevice(g.index));
    cudaStream_t s = nullptr;
    GF_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    bench->streams_.push_back({g.index, s});
    bench->send_.push_back(std::make_unique<DeviceBuffer>());
    bench->recv_.push_back(std::make_unique<DeviceBuffer>());
  }
  return bench;
}

CollectivesBench::~CollectivesBench() {
  for (size_t i = 0; i < streams_.size(); ++i) {
    cudaSetDevice(streams_[i].device);
    cudaStreamSynchronize(streams_[i].stream);
    send_[i]->Release();
    recv_[i]->Release();
    cudaStreamDestroy(streams_[i].stream);
  }
  for (void* c : comms_) ncclCommDestroy(Comm(c));
}

absl::StatusOr<TimedResult> CollectivesBench::Measure(const Measurement& m, const MethodOptions& method,
                                                      PowerSampler* sampler) {
  const int n = ranks();
  if (m.ranks != n) {
    return absl::InvalidArgumentError(absl::StrCat(m.Describe(), ": planned for ", m.ranks, " ranks, ", n, " GPUs open"));
  }
  const ncclDataType_t type = m.dtype == Dtype::kFp16 ? ncclFloat16 : m.dtype == Dtype::kFp32 ? ncclFloat32 : ncclBfloat16;
  const size_t elem = static_cast<size_t>(DtypeBytes(m.dtype));
  const size_t count = static_cast<size_t>(m.bytes) / elem;  // full-buffer elements
  const size_t shard = count / static_cast<size_t>(n);
  const FillType fill = m.dtype == Dtype::kFp16 ? FillType::kF16 : m.dtype == Dtype::kFp32 ? FillType::kF32 : FillType::kBf16;
  for (int r = 0; r < n; ++r) {
    GF_CUDA_RETURN_IF_ERROR(cudaSetDevice(streams_[r].device));
    GF_RETURN_IF_ERROR(send_[r]->ReserveRandom(count, fill, streams_[r].stream));
    GF_RETURN_IF_ERROR(recv_[r]->Reserve(count * elem));
    GF_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(streams_[r].stream));
  }
  const Op op = m.op;
  EnqueueFn call = [&, n, type, count, shard, op](int64_t) -> absl::Status {
    GF_RETURN_IF_ERROR(NcclStatus(ncclGroupStart(), "ncclGroupStart"));
    for (int r = 0; r < n; ++r) {
      ncclComm_t comm = Comm(comms_[r]);
      void* send = send_[r]->data();
      void* recv = recv_[r]->data();
      cudaStream_t s = streams_[r].stream;
      ncclResult_t res = ncclSuccess;
      switch (op) {
        case Op::kAllReduce: res = ncclAllReduce(send, recv, count, type, ncclSum, comm, s); break;
        case Op::kAllGather: res = ncclAllGather(send, recv, shard, type, comm, s); break;
        case Op::kReduceScatter: res = ncclReduceScatter(send, recv, shard, type, ncclSum, comm, s); break;
        case Op::kSendRecv:
          res = ncclSend(send, count, type, (r + 1) % n, comm, s);
          if (res == ncclSuccess) res = ncclRecv(recv, count, type, (r + n - 1) % n, comm, s);
          break;
        default: res = ncclInvalidArgument;
      }
      if (res != ncclSuccess) {
        (void)ncclGroupEnd();
        return NcclStatus(res, OpName(op));
      }
    }
    return NcclStatus(ncclGroupEnd(), "ncclGroupEnd");
  };
  return TimeCalls(streams_, call, method, sampler);
}

#else  // built without NCCL

absl::StatusOr<std::unique_ptr<CollectivesBench>> CollectivesBench::Create(const std::vector<GpuInfo>&) {
  return absl::UnimplementedError("collectives: this gpufleet-microbench was built without NCCL");
}
CollectivesBench::~CollectivesBench() = default;
absl::StatusOr<TimedResult> CollectivesBench::Measure(const Measurement&, const MethodOptions&, PowerSampler*) {
  return absl::UnimplementedError("built without NCCL");
}

#endif

}  // namespace gpufleet::microbench
