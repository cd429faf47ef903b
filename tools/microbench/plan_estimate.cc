// Roofline duration estimates for the measurement plan (see plan_estimate.h).
#include "tools/microbench/plan_estimate.h"

#include <algorithm>
#include <cmath>


namespace gpufleet::microbench {
namespace {

// Assumptions of the estimate (not hardware figures; those come from the catalog).
constexpr double kLaunchSeconds = 4e-6;        // one kernel launch, back to back
constexpr double kGemmEfficiency = 0.7;        // cuBLASLt reaches ~70% of dense peak on large shapes
constexpr double kMemoryEfficiency = 0.85;     // streaming kernels reach ~85% of HBM bandwidth
constexpr double kHostLinkEfficiency = 0.8;    // pinned copies reach ~80% of the PCIe figure
constexpr double kCollectiveEfficiency = 0.8;  // NCCL bus bandwidth vs the NVLink/PCIe figure
constexpr double kCollectiveLatency = 15e-6;   // small-message NCCL latency
// The project's reference attention kernels run on CUDA cores (fp32 FMA), far below the tensor-core peak;
// cuDNN's fused attention runs on tensor cores (flash-attention class: about half of dense peak).
constexpr double kOwnAttentionFractionOfPeak = 1.0 / 32;
constexpr double kLibraryAttentionFractionOfPeak = 0.5;
constexpr double kDecodeBandwidthEfficiency = 0.6;
constexpr double kSettleSecondsPerPowerLimit = 2.0;

// Per-point overhead besides the timed calls: buffers, descriptors, events, NVML sampler start/stop.
double SetupSeconds(Op op) {
  if (op == Op::kGemm) return 5e-3;       // + cuBLASLt descriptors and heuristic query
  if (IsAttention(op)) return 8e-3;       // + random fill, block table upload
  if (IsCollective(op)) return 8e-3;      // + per-GPU buffers
  return 3e-3;
}

double Tflops(const GpuSpec& gpu, Dtype d) {
  double peak = d == Dtype::kFp8 && gpu.fp8_tflops > 0 ? gpu.fp8_tflops : gpu.fp16_tflops;
  if (d == Dtype::kFp32) peak /= 8;
  return std::max(peak, 1.0) * 1e12;
}

double HbmBytesPerSecond(const GpuSpec& gpu) { return std::max(gpu.hbm_gbps, 1.0) * 1e9; }

}  // namespace

double EstimateCallSeconds(const Measurement& m, const GpuSpec& gpu) {
  const double hbm = HbmBytesPerSecond(gpu);
  switch (m.op) {
    case Op::kGemm: {
      const double flops = 2.0 * m.m * m.n * m.k;
      const double bytes = (static_cast<double>(m.m) * m.k + static_cast<double>(m.n) * m.k) * DtypeBytes(m.dtype) +
                           static_cast<double>(m.m) * m.n * 2;
      return std::max(flops / (Tflops(gpu, m.dtype) * kGemmEfficiency), bytes / (hbm * kMemoryEfficiency)) +
             kLaunchSeconds;
    }
    case Op::kAttnPrefill: {
      const double fraction =
          m.kernel == Kernel::kReference ? kOwnAttentionFractionOfPeak : kLibraryAttentionFractionOfPeak;
      const double q = m.q_tokens, kv = m.kv_tokens;
      const double flops = 4.0 * m.batch * m.heads * m.head_dim * (q * kv + q * (q + 1) / 2);
      const double bytes = 2.0 * m.batch * (q + kv) * m.kv_heads * m.head_dim * DtypeBytes(m.dtype) +
                           2.0 * m.batch * q * m.heads * m.head_dim * DtypeBytes(m.dtype);
      return std::max(flops / (Tflops(gpu, Dtype::kFp16) * fraction), bytes / hbm) + kLaunchSeconds;
    }
    case Op::kAttnDecode: {
      const double fraction =
          m.kernel == Kernel::kReference ? kOwnAttentionFractionOfPeak : kLibraryAttentionFractionOfPeak;
      const double kv = m.kv_tokens + 1.0;
      const double bytes = 2.0 * m.batch * kv * m.kv_heads * m.head_dim * DtypeBytes(m.dtype);
      const double flops = 4.0 * m.batch * m.heads * m.head_dim * kv;
      return std::max(flops / (Tflops(gpu, Dtype::kFp16) * fraction), bytes / (hbm * kDecodeBandwidthEfficiency)) +
             2 * kLaunchSeconds;  // split-KV kernel + reduction
    }
    case Op::kHbmCopy:
    case Op::kHbmTriad:
      return m.bytes / (hbm * kMemoryEfficiency) + kLaunchSeconds;
    case Op::kH2D:
    case Op::kD2H:
      return m.bytes / (std::max(gpu.pcie_gbps, 1.0) * 1e9 * kHostLinkEfficiency) + 10e-6;
    case Op::kLaunch:
      return kLaunchSeconds;
    case Op::kAllReduce:
    case Op::kAllGather:
    case Op::kReduceScatter:
    case Op::kSendRecv: {
      const double link = (gpu.nvlink_gbps > 0 ? gpu.nvlink_gbps : std::max(gpu.pcie_gbps, 1.0)) * 1e9 *
                          kCollectiveEfficiency;
      const double n = static_cast<double>(std::max<int64_t>(m.ranks, 2));
      double factor = 1.0;
      if (m.op == Op::kAllReduce) factor = 2 * (n - 1) / n;
      if (m.op == Op::kAllGather || m.op == Op::kReduceScatter) factor = (n - 1) / n;
      return kCollectiveLatency + factor * m.bytes / link;
    }
  }
  return kLaunchSeconds;
}

double EstimatePointSeconds(const Measurement& m, const GpuSpec& gpu, const MethodOptions& method) {
  double call = EstimateCallSeconds(m, gpu);
  if (m.op == Op::kLaunch) call *= static_cast<double>(method.launch_calls_per_sample);
  const double warmup = call + std::max(static_cast<double>(method.warmup_min_calls) * call, method.warmup_seconds);
  const double inner = m.op == Op::kLaunch
                           ? 1.0
                           : std::clamp(std::ceil(method.target_sample_seconds / call), 1.0,
                                        static_cast<double>(method.max_inner));
  const double sample = inner * call;
  const double min_time = static_cast<double>(method.stop.min_reps) * sample;
  const double expected = static_cast<double>(std::min(2 * method.stop.min_reps, method.stop.max_reps)) * sample;
  double timed = std::max(min_time, std::min(expected, method.stop.max_seconds));
  if (m.steady) timed = std::max(timed, method.steady_window_seconds);
  return SetupSeconds(m.op) + warmup + timed;
}

PlanEstimate EstimatePlan(const Plan& plan, const GpuSpec& gpu, const MethodOptions& method, int power_limits) {
  PlanEstimate e;
  for (const Measurement& m : plan.points) {
    const double s = EstimatePointSeconds(m, gpu, method);
    e.points[m.op] += 1;
    e.seconds[m.op] += s;
    e.total_seconds += s;
  }
  if (power_limits > 0) {
    for (auto& [op, s] : e.seconds) s *= power_limits;
    for (auto& [op, c] : e.points) c *= power_limits;
    e.total_seconds = e.total_seconds * power_limits + power_limits * kSettleSecondsPerPowerLimit;
  }
  return e;
}

}  // namespace gpufleet::microbench
