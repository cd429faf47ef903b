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

// Issues calls [first, first + n) from the host.
absl::Status EnqueueMany(const EnqueueFn& enqueue, int64_t first, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (absl::Status s = enqueue(first + i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// One CUDA graph per stream holding `inner` calls (0..inner-1), captured together so that a call spanning
// several streams (an NCCL group over all GPUs) is captured on each.
class CapturedCalls {
 public:
  ~CapturedCalls() {
    for (size_t s = 0; s < execs_.size(); ++s) {
      cudaSetDevice(devices_[s]);
      if (execs_[s]) cudaGraphExecDestroy(execs_[s]);
      if (graphs_[s]) cudaGraphDestroy(graphs_[s]);
    }
  }

  // On failure every stream is left out of capture mode and the non-sticky error cleared, so the caller
  // can fall back to host launches.
  absl::Status Capture(const std::vector<TimedStream>& streams, const EnqueueFn& enqueue, int64_t inner) {
    streams_ = streams;
    graphs_.assign(streams.size(), nullptr);
    execs_.assign(streams.size(), nullptr);
    devices_.clear();
    for (const TimedStream& t : streams) devices_.push_back(t.device);
    size_t begun = 0;
    absl::Status s;
    for (; begun < streams.size() && s.ok(); ++begun) {
      cudaSetDevice(streams[begun].device);
      s = CudaStatus(cudaStreamBeginCapture(streams[begun].stream, cudaStreamCaptureModeThreadLocal),
                     "cudaStreamBeginCapture");
      if (!s.ok()) break;
    }
    if (s.ok()) s = EnqueueMany(enqueue, 0, inner);
    // End every capture that began, even after a failure.
    for (size_t i = 0; i < begun; ++i) {
      cudaSetDevice(streams[i].device);
      absl::Status end = CudaStatus(cudaStreamEndCapture(streams[i].stream, &graphs_[i]), "cudaStreamEndCapture");
      if (s.ok()) s = end;
    }
    for (size_t i = 0; s.ok() && i < streams.size(); ++i) {
      cudaSetDevice(streams[i].device);
      s = CudaStatus(cudaGraphInstantiate(&execs_[i], graphs_[i], 0), "cudaGraphInstantiate");
    }
    if (!s.ok()) cudaGetLastError();
    return s;
  }

  absl::Status Launch() {
    for (size_t i = 0; i < streams_.size(); ++i) {
      GF_CUDA_RETURN_IF_ERROR(cudaGraphLaunch(execs_[i], streams_[i].stream));
    }
    return absl::OkStatus();
  }

 private:
  std::vector<TimedStream> streams_;
  std::vector<int> devices_;
  std::vector<cudaGraph_t> graphs_;
  std::vector<cudaGraphExec_t> execs_;
};

}  // namespace

absl::StatusOr<TimedResult> TimeCalls(const std::vector<TimedStream>& streams, const EnqueueFn& enqueue,
                                      const MethodOptions& method_in, PowerSampler* sampler,
                                      const TimingRequest& request) {
  int caller_device = 0;
  GF_CUDA_RETURN_IF_ERROR(cudaGetDevice(&caller_device));
  // Creating and destroying events switches devices; give the caller its device back.
  struct RestoreDevice {
    int device;
    ~RestoreDevice() { cudaSetDevice(device); }
  } restore{caller_device};
  EventGrid events(streams, kMaxBatch + 1);
  if (!events.ok()) return absl::InternalError("cudaEventCreate failed");
  const double per_op = 1.0 / static_cast<double>(std::max<int64_t>(1, request.calls_per_enqueue));
  const int64_t cycle = std::max<int64_t>(1, request.cycle);

  MethodOptions method = method_in;
  const bool steady = request.steady && method.steady_window_seconds > 0;
  if (steady) {
    // About 32 samples fill the window; the budget must allow the window.
    method.target_sample_seconds = std::max(method.target_sample_seconds, method.steady_window_seconds / 32);
    method.max_inner = std::max<int64_t>(method.max_inner, 100000);
    method.stop.max_seconds = std::max(method.stop.max_seconds, 1.5 * method.steady_window_seconds);
  }

  // A (slowest-stream) event interval around host-launched calls [first, first + n).
  auto time_launched = [&](int64_t first, int64_t n) -> absl::StatusOr<double> {
    GF_RETURN_IF_ERROR(events.Record(0));
    GF_RETURN_IF_ERROR(EnqueueMany(enqueue, first, n));
    GF_RETURN_IF_ERROR(events.Record(1));
    GF_RETURN_IF_ERROR(events.Sync(1));
    return events.Elapsed(0, 1);
  };

  TimedResult result;
  // First call (lazy initialisation, module loading, cold caches): not part of the warm-up's time.
  GF_ASSIGN_OR_RETURN(const double t_first, time_launched(0, 1));
  int64_t call = 1;
  double last = std::max(t_first, 1e-7);
  while (const int64_t n = NextWarmupBatch(method, result.warmup_calls, result.warmup_seconds, last)) {
    GF_ASSIGN_OR_RETURN(const double t, time_launched(call, n));
    call += n;
    result.warmup_calls += n;
    result.warmup_seconds += t;
    last = t / static_cast<double>(n);
  }
  const double t_call = std::max(last, 1e-7);

  TimingMode mode = request.launch_only ? TimingMode::kLaunch : method.timing;
  result.inner = InnerCalls(method, t_call, cycle, mode);
  CapturedCalls graph;
  if (mode == TimingMode::kGraph) {
    if (absl::Status s = graph.Capture(streams, enqueue, result.inner); !s.ok()) {
      if (CudaContextBroken(caller_device)) return s;
      mode = TimingMode::kLaunch;  // recorded in the row; the point is still measured
    } else {
      // Upload and first replays of the graph are not timed.
      for (int i = 0; i < 2; ++i) GF_RETURN_IF_ERROR(graph.Launch());
      GF_RETURN_IF_ERROR(events.Record(0));
      GF_RETURN_IF_ERROR(events.Sync(0));
    }
  }
  result.timing = mode;
  auto issue_sample = [&]() -> absl::Status {
    if (mode == TimingMode::kGraph) return graph.Launch();
    absl::Status s = EnqueueMany(enqueue, call, result.inner);
    call += result.inner;
    return s;
  };

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
      s = issue_sample();
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
    result.window_seconds = elapsed;
    result.stats = ComputeStats(samples_us, method.stop.confidence);
    result.reason = EvaluateStop(method.stop, result.stats, elapsed);
    // A steady point converges only once its window is long enough (the budget still ends it).
    if (steady && result.reason == StopReason::kConverged && elapsed < method.steady_window_seconds) {
      result.reason = StopReason::kContinue;
    }
    if (steady && result.reason == StopReason::kMaxReps && elapsed < method.steady_window_seconds) {
      result.reason = StopReason::kContinue;
    }
    if (result.reason != StopReason::kContinue) break;
  }
  if (sampler != nullptr) result.power = sampler->Stop();
  if (!failure.ok()) return failure;
  return result;
}

}  // namespace gpufleet::microbench
