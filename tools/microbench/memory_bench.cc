// HBM, host-link and launch measurements (see memory_bench.h).
#include "tools/microbench/memory_bench.h"

#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/device_kernels.h"

namespace gpufleet::microbench {

void MemoryBench::ReleaseBuffers() {
  a_.Release();
  b_.Release();
  c_.Release();
}

absl::StatusOr<TimedResult> MemoryBench::Measure(const Measurement& m, const MethodOptions& method,
                                                 PowerSampler* sampler) {
  const std::vector<TimedStream> streams = {{gpu_.index, stream_}};
  cudaStream_t stream = stream_;
  const int sms = gpu_.sm_count;
  switch (m.op) {
    case Op::kHbmCopy: {
      const size_t buffer = static_cast<size_t>(m.bytes) / 2;  // bytes counts the read and the write
      const size_t n4 = buffer / 16;
      GF_RETURN_IF_ERROR(a_.ReserveRandom(buffer / 4, FillType::kF32, stream));
      GF_RETURN_IF_ERROR(b_.Reserve(buffer));
      void* src = a_.data();
      void* dst = b_.data();
      return TimeCalls(streams, [=](int64_t) { return CudaStatus(LaunchCopy(dst, src, n4, sms, stream), "copy kernel"); },
                       method, sampler);
    }
    case Op::kHbmTriad: {
      const size_t buffer = static_cast<size_t>(m.bytes) / 3;  // two reads and a write
      const size_t n4 = buffer / 16;
      GF_RETURN_IF_ERROR(a_.Reserve(buffer));
      GF_RETURN_IF_ERROR(b_.ReserveRandom(buffer / 4, FillType::kF32, stream));
      GF_RETURN_IF_ERROR(c_.ReserveRandom(buffer / 4, FillType::kF32, stream));
      void* a = a_.data();
      void* b = b_.data();
      void* c = c_.data();
      return TimeCalls(streams,
                       [=](int64_t) { return CudaStatus(LaunchTriad(a, b, c, 3.0f, n4, sms, stream), "triad kernel"); },
                       method, sampler);
    }
    case Op::kH2D:
    case Op::kD2H: {
      const size_t bytes = static_cast<size_t>(m.bytes);
      GF_RETURN_IF_ERROR(host_.Reserve(bytes));
      GF_RETURN_IF_ERROR(a_.Reserve(bytes));
      void* host = host_.data();
      void* dev = a_.data();
      const bool h2d = m.op == Op::kH2D;
      return TimeCalls(
          streams,
          [=](int64_t) {
            return h2d ? CudaStatus(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream), "h2d copy")
                       : CudaStatus(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream), "d2h copy");
          },
          method, sampler);
    }
    case Op::kLaunch: {
      const int64_t n = method.launch_calls_per_sample;
      MethodOptions one = method;
      one.max_inner = 1;  // each enqueue already issues n launches
      TimingRequest request;
      request.calls_per_enqueue = n;
      return TimeCalls(
          streams,
          [=](int64_t) -> absl::Status {
            for (int64_t i = 0; i < n; ++i) GF_RETURN_IF_ERROR(CudaStatus(LaunchEmpty(stream), "empty kernel"));
            return absl::OkStatus();
          },
          one, sampler, request);
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("MemoryBench cannot measure ", OpName(m.op)));
  }
}

}  // namespace gpufleet::microbench
