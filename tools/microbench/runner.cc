// Plan execution (see runner.h).
#include "tools/microbench/runner.h"

#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "absl/strings/str_cat.h"
#include "tools/microbench/attention_bench.h"
#include "tools/microbench/cache_rotation.h"
#include "tools/microbench/cudnn_sdpa_bench.h"
#include "tools/microbench/collectives_bench.h"
#include "tools/microbench/gemm_bench.h"
#include "tools/microbench/interrupt.h"
#include "tools/microbench/memory_bench.h"
#include "tools/microbench/plan_summary.h"
#include "tools/microbench/power_sampler.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {
namespace {

constexpr double kSettleSeconds = 2.0;         // after changing the power limit
constexpr double kCheckpointSeconds = 60.0;    // rewrite the CSV at least this often

double RoundUs(double us) { return std::max(0.001, std::round(us * 1000) / 1000); }

// Lazily created benchmarks; dropped when the run moves to another op group so their buffers are freed.
class Benches {
 public:
  Benches(const RunContext& ctx, cudaStream_t stream) : ctx_(ctx), stream_(stream) {}

  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* one,
                                      PowerSampler* all) {
    const OpGroup g = GroupOf(m.op);
    if (g != group_) Reset(g);
    const GpuInfo& gpu = ctx_.gpus[ctx_.device];
    if (g != OpGroup::kCollectives) {
      if (absl::Status s = CudaStatus(cudaSetDevice(gpu.index), "cudaSetDevice"); !s.ok()) return s;
    }
    switch (g) {
      case OpGroup::kGemm:
        if (!gemm_) {
          auto b = GemmBench::Create(gpu, stream_);
          if (!b.ok()) return b.status();
          gemm_ = std::move(*b);
        }
        return gemm_->Measure(m, method, one);
      case OpGroup::kAttention:
        if (m.kernel == Kernel::kCudnnSdpa) {
          if (!ctx_.cudnn_disabled.empty()) return absl::UnavailableError(ctx_.cudnn_disabled);
          if (!cudnn_) {
            if (!cudnn_error_.ok()) return cudnn_error_;
            auto b = CudnnSdpaBench::Create(gpu, stream_);
            if (!b.ok()) {
              cudnn_error_ = b.status();
              return b.status();
            }
            cudnn_ = std::move(*b);
          }
          return cudnn_->Measure(m, method, one, gpu.l2_bytes);
        }
        if (!attention_) attention_ = std::make_unique<AttentionBench>(gpu, stream_);
        return attention_->Measure(m, method, one);
      case OpGroup::kMemory:
      case OpGroup::kLaunch:
        if (!memory_) memory_ = std::make_unique<MemoryBench>(gpu, stream_);
        return memory_->Measure(m, method, one);
      case OpGroup::kCollectives:
        if (!collectives_) {
          // ncclCommInitAll over every GPU is slow (seconds) and a failure (no NCCL, P2P/topology trouble)
          // does not go away: remember it rather than retrying it for each of the ~100 collective points.
          if (!collectives_error_.ok()) return collectives_error_;
          auto b = CollectivesBench::Create(ctx_.gpus);
          if (!b.ok()) {
            collectives_error_ = b.status();
            return b.status();
          }
          collectives_ = std::move(*b);
        }
        return collectives_->Measure(m, method, all);
    }
    return absl::InternalError("unknown op group");
  }

  void Reset(OpGroup next) {
    gemm_.reset();
    attention_.reset();
    cudnn_.reset();
    memory_.reset();
    if (next != OpGroup::kCollectives) collectives_.reset();
    group_ = next;
    cudaSetDevice(ctx_.gpus[ctx_.device].index);
  }

 private:
  const RunContext& ctx_;
  cudaStream_t stream_;
  OpGroup group_ = OpGroup::kLaunch;
  std::unique_ptr<GemmBench> gemm_;
  std::unique_ptr<AttentionBench> attention_;
  std::unique_ptr<CudnnSdpaBench> cudnn_;
  absl::Status cudnn_error_;  // CudnnSdpaBench::Create's failure (cuDNN missing does not go away)
  std::unique_ptr<MemoryBench> memory_;
  std::unique_ptr<CollectivesBench> collectives_;
  absl::Status collectives_error_;  // CollectivesBench::Create's failure, if it failed
};

MicrobenchRow MakeRow(const RunContext& ctx, const Measurement& m, const TimedResult& r, double limit_w) {
  const GpuInfo& gpu = ctx.gpus[ctx.device];
  MicrobenchRow row;
  row.gpu_name = ctx.gpu_name;
  row.driver_version = ctx.driver_version;
  row.cuda_version = ctx.cuda_version;
  row.op = m.op;
  row.dtype = m.dtype;
  row.m = m.m;
  row.n = m.n;
  row.k = m.k;
  row.batch = m.batch;
  row.q_tokens = m.q_tokens;
  row.kv_tokens = m.kv_tokens;
  row.heads = m.heads;
  row.kv_heads = m.kv_heads;
  row.head_dim = m.head_dim;
  row.bytes = m.bytes;
  row.ranks = m.ranks;
  row.power_limit_w = limit_w;
  row.time_us_median = RoundUs(r.stats.median);
  row.time_us_p10 = std::min(row.time_us_median, RoundUs(r.stats.p10));
  row.time_us_p90 = std::max(row.time_us_median, RoundUs(r.stats.p90));
  row.samples = r.stats.n;
  if (r.power.mean_power_w) row.mean_power_w = std::round(*r.power.mean_power_w * 10) / 10;
  if (r.power.sm_clock_mhz) row.sm_clock_mhz = std::round(*r.power.sm_clock_mhz);
  row.kernel = m.kernel;
  row.timing = r.timing;
  const ColdRotation rotation = RotationFor(m, gpu.l2_bytes);
  row.cold_copies = rotation.copies;
  row.working_set_bytes = rotation.working_set_bytes;
  row.l2_bytes = gpu.l2_bytes;
  row.window_ms = std::round(r.window_seconds * 1e4) / 10;
  if (r.power.energy_j) row.energy_j = std::round(*r.power.energy_j * 1000) / 1000;
  if (r.power.clock_events) row.clock_events = ClockEventNames(*r.power.clock_events);
  return row;
}

// Skippable: the point cannot run here (no algorithm, no memory, unsupported); anything else ends the run
// when it leaves the CUDA context broken.
bool Skippable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnimplemented || s.code() == absl::StatusCode::kResourceExhausted ||
         s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kFailedPrecondition;
}

}  // namespace

RunOutcome RunPlan(const Plan& plan, const RunContext& ctx, const RunOptions& options, PowerLimitGuard* guard) {
  RunOutcome out;
  const GpuInfo& gpu = ctx.gpus[ctx.device];
  cudaSetDevice(gpu.index);
  cudaStream_t stream = nullptr;
  if (absl::Status s = CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
      !s.ok()) {
    out.fatal = s;
    return out;
  }
  std::vector<NvmlDevice> one_dev, all_dev;
  if (ctx.nvml != nullptr && !ctx.nvml_devices.empty()) {
    one_dev = {ctx.nvml_devices[ctx.device]};
    all_dev = ctx.nvml_devices;
  }
  PowerSampler one(ctx.nvml, one_dev), all(ctx.nvml, all_dev);
  one.set_min_power_window(options.method.min_power_window_seconds);
  all.set_min_power_window(options.method.min_power_window_seconds);

  auto checkpoint = [&]() {
    std::vector<std::string> comments = options.comments;
    for (const std::string& s : out.skipped) comments.push_back("skipped: " + s);
    if (out.interrupted) comments.push_back("interrupted: partial run");
    if (absl::Status s = WriteMicrobenchCsv(options.out_path, out.rows, comments); !s.ok() && out.fatal.ok()) {
      out.fatal = s;
    }
  };
  auto last_checkpoint = std::chrono::steady_clock::now();

  std::vector<double> limits = options.power_limits;
  const bool sweep = !limits.empty();
  if (!sweep) limits = {0};
  const size_t total = plan.points.size() * limits.size();
  size_t done = 0;
  for (double requested : limits) {
    if (sweep) {
      if (absl::Status s = guard->Set(requested); !s.ok()) {
        out.fatal = s;
        break;
      }
      std::fprintf(stderr, "gpufleet-microbench: power limit set to %.0f W; settling %.0f s\n", requested,
                   kSettleSeconds);
      std::this_thread::sleep_for(std::chrono::duration<double>(kSettleSeconds));
    }
    double limit_w = requested;
    if (ctx.nvml != nullptr && !ctx.nvml_devices.empty()) {
      if (auto w = ctx.nvml->PowerLimitWatts(ctx.nvml_devices[ctx.device]); w.ok()) limit_w = *w;
    }
    Benches benches(ctx, stream);
    for (const Measurement& m : plan.points) {
      if (Interrupted()) {
        out.interrupted = true;
        break;
      }
      ++done;
      MethodOptions method = options.method;
      if (m.timing) method.timing = *m.timing;
      absl::StatusOr<TimedResult> r = benches.Measure(m, method, &one, &all);
      if (!r.ok()) {
        if (r.status().code() == absl::StatusCode::kCancelled) {
          out.interrupted = true;
          break;
        }
        if (!Skippable(r.status()) && CudaContextBroken(gpu.index)) {
          out.fatal = absl::InternalError(absl::StrCat(m.Describe(), ": ", r.status().message()));
          break;
        }
        if (r.status().code() == absl::StatusCode::kResourceExhausted) benches.Reset(GroupOf(m.op));  // free memory
        out.skipped.push_back(absl::StrCat(m.Describe(), ": ", r.status().message()));
        std::fprintf(stderr, "[%5zu/%zu] %-64s skipped: %s\n", done, total, m.Describe().c_str(),
                     std::string(r.status().message()).c_str());
        continue;
      }
      out.rows.push_back(MakeRow(ctx, m, *r, limit_w));
      if (options.progress) {
        const MicrobenchRow& row = out.rows.back();
        std::string power = row.mean_power_w ? fmt::format(" {:.0f} W {:.0f} MHz", *row.mean_power_w,
                                                           row.sm_clock_mhz.value_or(0))
                                             : "";
        std::fprintf(stderr, "[%5zu/%zu] %-64s %12.3f us  +-%.1f%% n=%lld%s\n", done, total, m.Describe().c_str(),
                     row.time_us_median, 100 * r->stats.rel_ci_half_width, static_cast<long long>(row.samples),
                     power.c_str());
      }
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint).count() >
          kCheckpointSeconds) {
        checkpoint();
        last_checkpoint = std::chrono::steady_clock::now();
      }
    }
    if (out.interrupted || !out.fatal.ok()) break;
  }
  if (sweep) {
    if (absl::Status s = guard->Restore(); !s.ok()) {
      std::fprintf(stderr, "gpufleet-microbench: WARNING: could not restore the power limit: %s\n",
                   std::string(s.message()).c_str());
    }
  }
  cudaSetDevice(gpu.index);
  cudaStreamDestroy(stream);
  checkpoint();
  return out;
}

}  // namespace gpufleet::microbench
