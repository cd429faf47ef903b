// CUDA-event timing loop with warm-up and the stopping rule (see timing.h).
#include "tools/microbench/timing.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/device.h"
#include "tools/microbench/interrupt.h"

namespace gpufleet::microbench {
namespace {

constexpr int kMaxBatch = 64;             // samples per synchronisation
constexpr double kMaxBatchSeconds = 0.25;  // keep the stop rule and Ctrl-C responsive

// Events for every stream, created on its device.
class EventGrid {
 public:
  EventGrid(const std::vector<TimedStream>& streams, int per_stream) : streams_(streams) {
    events_.resize(streams.size());
    for (size_t s = 0; s < streams.size(); ++s) {
      cudaSetDevice(streams[s].device);
      events_[s].resize(per_stream, nullptr);
      for (cudaEvent_t& e : events_[s]) {
        if (cudaEventCreate(&e) != cudaSuccess) {
          e = nullptr;
          ok_ = false;
        }
      }
    }
  }
  ~EventGrid() {
    for (size_t s = 0; s < events_.size(); ++s) {
      cudaSetDevice(streams_[s].device);
      for (cudaEvent_t e : events_[s]) {
        if (e) cudaEventDestroy(e);
      }
    }
  }
  bool ok() const { return ok_; }

  absl::Status Record(int slot) {
    for (size_t s = 0; s < streams_.size(); ++s) {
      GF_CUDA_RETURN_IF_ERROR(cudaEventRecord(events_[s][slot], streams_[s].stream));
    }
    return absl::OkStatus();
  }
  absl::Status Sync(int slot) {
    for (size_t s = 0; s < streams_.size(); ++s) GF_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(events_[s][slot]));
    return absl::OkStatus();
  }
  // Slowest stream's time between two slots, seconds.
  absl::StatusOr<double> Elapsed(int from, int to) {
    double worst = 0;
    for (size_t s = 0; s < streams_.size(); ++s) {
      float ms = 0;
      GF_CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, events_[s][from], events_[s][to]));
      worst = std::max(worst, static_cast<double>(ms) * 1e-3);
    }
    return worst;
  }

 private:
  std::vector<TimedStream> streams_;
  std::vector<std::vector<cudaEvent_t>> events_;
  bool ok_ = true;
};

absl::Status EnqueueMany(const EnqueueFn& enqueue, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (absl::Status s = enqueue(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TimedResult> TimeCalls(const std::vector<TimedStream>& streams, const EnqueueFn& enqueue,
                                      const MethodOptions& method, PowerSampler* sampler,
                                      int64_t calls_per_enqueue) {
  int caller_device = 0;
  GF_CUDA_RETURN_IF_ERROR(cudaGetDevice(&caller_device));
  // Creating and destroying events switches devices; give the caller its device back.
  struct RestoreDevice {
    int device;
    ~RestoreDevice() { cudaSetDevice(device); }
  } restore{caller_device};
  EventGrid events(streams, kMaxBatch + 1);
  if (!events.ok()) return absl::InternalError("cudaEventCreate failed");
  const double per_op = 1.0 / static_cast<double>(std::max<int64_t>(1, calls_per_enqueue));

  // First call (lazy initialisation, cold caches), then warm-up sized from it.
  GF_RETURN_IF_ERROR(events.Record(0));
  GF_RETURN_IF_ERROR(enqueue());
  GF_RETURN_IF_ERROR(events.Record(1));
  GF_RETURN_IF_ERROR(events.Sync(1));
  absl::StatusOr<double> first = events.Elapsed(0, 1);
  if (!first.ok()) return first.status();
  const double t_first = std::max(*first, 1e-7);
  const int64_t warm = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(method.warmup_seconds / t_first)),
                                           method.warmup_min_calls, 100000);
  GF_RETURN_IF_ERROR(events.Record(0));
  GF_RETURN_IF_ERROR(EnqueueMany(enqueue, warm));
  GF_RETURN_IF_ERROR(events.Record(1));
  GF_RETURN_IF_ERROR(events.Sync(1));
  absl::StatusOr<double> warm_time = events.Elapsed(0, 1);
  if (!warm_time.ok()) return warm_time.status();
  const double t_call = std::max(*warm_time / static_cast<double>(warm), 1e-7);

  TimedResult result;
  result.inner = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(method.target_sample_seconds / t_call)), 1,
                                     method.max_inner);
  const double t_sample = t_call * static_cast<double>(result.inner);
  std::vector<double> samples_us;
  if (sampler != nullptr) sampler->Start();
  const auto start = std::chrono::steady_clock::now();
  absl::Status failure;
  while (true) {
    if (Interrupted()) {
      failure = absl::CancelledError("interrupted");
      break;
    }
    const int64_t n = static_cast<int64_t>(samples_us.size());
    int64_t batch = n < method.stop.min_reps ? method.stop.min_reps - n : std::max<int64_t>(1, n / 4);
    batch = std::min<int64_t>(batch, kMaxBatch);
    batch = std::min<int64_t>(batch, std::max<int64_t>(1, static_cast<int64_t>(kMaxBatchSeconds / t_sample)));
    batch = std::min<int64_t>(batch, std::max<int64_t>(1, method.stop.max_reps - n));
    absl::Status s = events.Record(0);
    for (int64_t i = 0; s.ok() && i < batch; ++i) {
      s = EnqueueMany(enqueue, result.inner);
      if (s.ok()) s = events.Record(static_cast<int>(i + 1));
    }
    if (s.ok()) s = events.Sync(static_cast<int>(batch));
    for (int64_t i = 0; s.ok() && i < batch; ++i) {
      absl::StatusOr<double> t = events.Elapsed(static_cast<int>(i), static_cast<int>(i + 1));
      if (!t.ok()) {
        s = t.status();
        break;
      }
      samples_us.push_back(*t / static_cast<double>(result.inner) * per_op * 1e6);
    }
    if (!s.ok()) {
      failure = s;
      break;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.stats = ComputeStats(samples_us, method.stop.confidence);
    result.reason = EvaluateStop(method.stop, result.stats, elapsed);
    if (result.reason != StopReason::kContinue) break;
  }
  if (sampler != nullptr) result.power = sampler->Stop();
  if (!failure.ok()) return failure;
  return result;
}

}  // namespace gpufleet::microbench
