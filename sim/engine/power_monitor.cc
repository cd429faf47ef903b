// The cluster's power readings (see power_monitor.h).
#include "sim/engine/power_monitor.h"

#include <algorithm>
#include <cmath>

#include "sim/metrics/percentile.h"

namespace gpufleet {

double ServerPowerW(const NodeSpec& node, const GpuSpec& gpu, double gpu_power_sum_w, int gpus) {
  if (gpus <= 0) return node.non_gpu_idle_w;
  const double range = gpu.tdp_w - gpu.idle_w;
  const double load = range > 0 ? std::clamp((gpu_power_sum_w / gpus - gpu.idle_w) / range, 0.0, 1.0) : 0.0;
  return gpu_power_sum_w + node.non_gpu_idle_w + (node.non_gpu_max_w - node.non_gpu_idle_w) * load;
}

PowerMonitor::PowerMonitor(const PowerSpec& spec, const std::vector<std::unique_ptr<Replica>>* replicas,
                           std::vector<Server> servers, std::unique_ptr<PowerController> controller)
    : spec_(spec),
      replicas_(replicas),
      servers_(std::move(servers)),
      last_busy_s_(replicas->size(), 0),
      last_energy_j_(replicas->size(), 0),
      next_t_(spec.telemetry_interval_s),
      controller_(std::move(controller)),
      replica_gpu_(replicas->size(), nullptr),
      states_(replicas->size()) {
  for (const Server& s : servers_) {
    for (int i : s.replicas) replica_gpu_[static_cast<size_t>(i)] = s.gpu;
  }
  for (size_t i = 0; i < replicas_->size(); ++i) {
    const Replica& r = *(*replicas_)[i];
    ReplicaPowerState& st = states_[i];
    st.replica = static_cast<int>(i);
    st.group = r.group();
    st.gpus = static_cast<int>(r.gpus().size());
    st.tdp_w = replica_gpu_[i]->tdp_w;
    st.min_limit_w = replica_gpu_[i]->min_power_w > 0 ? replica_gpu_[i]->min_power_w : 0.1 * st.tdp_w;
    st.power_w = replica_gpu_[i]->idle_w;
  }
  if (controller_ != nullptr) Control(0, 0, 0, 0);
}

void PowerMonitor::Control(double t_s, double interval_s, double it_w, double delay_s) {
  limits_w_.resize(replicas_->size());
  for (size_t i = 0; i < replicas_->size(); ++i) {
    const Replica& r = *(*replicas_)[i];
    states_[i].limit_w = limits_w_[i] = r.controller_limit_w();
    states_[i].waiting = r.waiting();
    states_[i].running = r.running();
  }
  PowerReading reading{t_s, interval_s, it_w, spec_.budget_w, spec_.actuation_delay_s, states_};
  controller_->Control(reading, &limits_w_);
  for (size_t i = 0; i < replicas_->size(); ++i) {
    const double was = states_[i].limit_w, now = limits_w_[i];
    if (now == was) continue;
    (*replicas_)[i]->SetControllerLimit(now, t_s + delay_s);
    // A cap set or lowered is a capping event; lifted or raised, a release.
    if (now > 0 && (was <= 0 || now < was)) {
      ++stats_.cap_events;
    } else {
      ++stats_.release_events;
    }
  }
}

void PowerMonitor::RecordUntil(double now_s) {
  while (next_t_ < now_s) {
    Record(next_t_);
    next_t_ = static_cast<double>(++next_k_) * spec_.telemetry_interval_s;
  }
}

void PowerMonitor::Record(double t_s) {
  const double interval = t_s - last_t_;
  if (interval <= 0) return;
  double it_w = 0;
  for (const Server& s : servers_) {
    if (s.replicas.empty() && spec_.idle_servers_off) continue;
    const int gpus = s.node->gpus_per_node;
    double gpu_sum_w = (gpus - s.replica_gpus) * s.gpu->idle_w;  // GPUs without a replica idle
    for (int i : s.replicas) {
      const Replica& r = *(*replicas_)[i];
      const double busy = r.BusyUntil(t_s), energy = r.BusyEnergyUntil(t_s);
      const double per_gpu_j = (energy - last_energy_j_[i]) + s.gpu->idle_w * std::max(0.0, interval - (busy - last_busy_s_[i]));
      states_[static_cast<size_t>(i)].power_w = per_gpu_j / interval;
      gpu_sum_w += static_cast<double>(r.gpus().size()) * per_gpu_j / interval;
    }
    it_w += ServerPowerW(*s.node, *s.gpu, gpu_sum_w, gpus);
  }
  for (size_t i = 0; i < replicas_->size(); ++i) {
    last_busy_s_[i] = (*replicas_)[i]->BusyUntil(t_s);
    last_energy_j_[i] = (*replicas_)[i]->BusyEnergyUntil(t_s);
  }
  ++stats_.readings;
  stats_.it_energy_j += it_w * interval;
  stats_.it_peak_w = std::max(stats_.it_peak_w, it_w);
  readings_w_.push_back(it_w);
  if (spec_.budget_w > 0 && it_w > spec_.budget_w) {
    stats_.time_over_budget_s += interval;
    if (over_since_s_ < 0) over_since_s_ = last_t_;
    if (!tripped_ && t_s - over_since_s_ >= spec_.breaker_window_s - 1e-9) {
      ++stats_.breaker_trips;
      tripped_ = true;
    }
  } else {
    over_since_s_ = -1;
    tripped_ = false;
  }
  last_t_ = t_s;
  if (controller_ != nullptr) Control(t_s, interval, it_w, spec_.actuation_delay_s);
}

PowerStats PowerMonitor::Finish(double end_s) {
  RecordUntil(end_s);
  controller_.reset();  // the last, shorter reading ends the run: nothing left to control
  Record(end_s);
  PowerStats out = stats_;
  if (!readings_w_.empty()) out.it_p99_w = Percentile(readings_w_, 99);
  return out;
}

}  // namespace gpufleet
