// The run's time series sampler (see series_sampler.h).
#include "sim/engine/series_sampler.h"

#include <algorithm>

namespace gpufleet {
namespace {
constexpr size_t kFlushRows = 8192;  // a few hundred KiB held at most
}  // namespace

SeriesSampler::SeriesSampler(double interval_s, const std::vector<std::unique_ptr<Replica>>* replicas,
                             std::vector<const GpuSpec*> replica_gpus, double unused_idle_w, SeriesSpool* out)
    : interval_s_(interval_s), replicas_(replicas), gpus_(std::move(replica_gpus)), unused_idle_w_(unused_idle_w),
      next_t_(interval_s), last_(replicas->size()), out_(out) {}

void SeriesSampler::RecordUntil(double now_s) {
  while (next_t_ < now_s) {
    Record(next_t_);
    // A product, not a running sum, so that sample times do not drift (0.1 x 3, not 0.1 + 0.1 + 0.1).
    next_t_ = static_cast<double>(++next_k_) * interval_s_;
  }
}

absl::Status SeriesSampler::Finish(double end_s) {
  RecordUntil(end_s);
  Record(end_s);
  Flush();
  return error_;
}

void SeriesSampler::Flush() {
  if (error_.ok()) error_ = out_->Append(samples_);
  samples_.clear();
}

void SeriesSampler::Record(double t_s) {
  const double interval = t_s - last_t_;
  SeriesSample fleet;
  fleet.t_s = t_s;
  fleet.arrivals = arrivals_ - last_arrivals_;
  fleet.power_w = unused_idle_w_;
  last_arrivals_ = arrivals_;
  double gpu_busy_s = 0;
  int64_t gpus = 0;
  const size_t fleet_index = samples_.size();
  samples_.push_back({});
  for (size_t i = 0; i < replicas_->size(); ++i) {
    const Replica& r = *(*replicas_)[i];
    const ReplicaStats stats = r.stats();
    const Cumulative now{r.BusyUntil(t_s), r.BusyEnergyUntil(t_s), stats.output_tokens, stats.completed,
                         stats.requests};
    Cumulative& last = last_[i];
    SeriesSample s;
    s.t_s = t_s;
    s.replica = r.id();
    s.waiting = r.waiting();
    s.running = r.running();
    s.kv_used_blocks = r.kv_used_blocks();
    s.kv_total_blocks = stats.kv_blocks_total;
    s.busy_s = now.busy_s - last.busy_s;
    s.util = interval > 0 ? s.busy_s / interval : 0;
    s.output_tokens = now.output_tokens - last.output_tokens;
    s.completed = now.completed - last.completed;
    s.arrivals = now.requests - last.requests;
    const int n_gpus = static_cast<int>(r.gpus().size());
    // Per GPU: the iterations' energy in the interval, idle power for the rest of it.
    const double joules = (now.busy_energy_j - last.busy_energy_j) + gpus_[i]->idle_w * std::max(0.0, interval - s.busy_s);
    s.power_w = interval > 0 ? n_gpus * joules / interval : n_gpus * gpus_[i]->idle_w;
    last = now;

    fleet.waiting += s.waiting;
    fleet.running += s.running;
    fleet.kv_used_blocks += s.kv_used_blocks;
    fleet.kv_total_blocks += s.kv_total_blocks;
    fleet.busy_s += s.busy_s;
    fleet.output_tokens += s.output_tokens;
    fleet.completed += s.completed;
    fleet.power_w += s.power_w;
    gpu_busy_s += n_gpus * s.busy_s;
    gpus += n_gpus;
    samples_.push_back(s);
  }
  // GPU-weighted, like the summary's gpu_util_deployed_mean, which is its time average.
  fleet.util = interval > 0 && gpus > 0 ? gpu_busy_s / (interval * static_cast<double>(gpus)) : 0;
  samples_[fleet_index] = fleet;
  last_t_ = t_s;
  if (samples_.size() >= kFlushRows) Flush();
}

}  // namespace gpufleet
