// The cluster's power readings (see power_monitor.h).
#include "sim/engine/power_monitor.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/metrics/percentile.h"

namespace gpufleet {

double ServerPowerW(const NodeSpec& node, const GpuSpec& gpu, double gpu_power_sum_w, int gpus) {
  if (gpus <= 0) return node.non_gpu_idle_w;
  const double range = gpu.tdp_w - gpu.idle_w;
  const double load = range > 0 ? std::clamp((gpu_power_sum_w / gpus - gpu.idle_w) / range, 0.0, 1.0) : 0.0;
  return gpu_power_sum_w + node.non_gpu_idle_w + (node.non_gpu_max_w - node.non_gpu_idle_w) * load;
}

std::vector<PowerDomain> PowerDomains(const PowerSpec& spec, int servers) {
  std::vector<PowerDomain> out = {{"cluster", "cluster", 0, servers, spec.budget_w}};
  if (spec.rack_servers <= 0) return out;
  const int per_rack = static_cast<int>(spec.rack_servers);
  const int racks = (servers + per_rack - 1) / per_rack;
  for (int r = 0; r < racks; ++r) {
    out.push_back({absl::StrCat("rack-", r), "rack", r * per_rack, std::min(per_rack, servers - r * per_rack),
                   spec.rack_budget_w});
  }
  if (spec.row_racks <= 0) return out;
  const int per_row = static_cast<int>(spec.row_racks) * per_rack;
  for (int w = 0; w * per_row < servers; ++w) {
    out.push_back({absl::StrCat("row-", w), "row", w * per_row, std::min(per_row, servers - w * per_row),
                   spec.row_budget_w});
  }
  return out;
}

std::string ControlLevel(const PowerSpec& spec) {
  if (spec.rack_servers > 0 && spec.rack_budget_w > 0) return "rack";
  if (spec.row_racks > 0 && spec.row_budget_w > 0) return "row";
  return "cluster";
}

PowerMonitor::PowerMonitor(const PowerSpec& spec, const std::vector<std::unique_ptr<Replica>>* replicas,
                           std::vector<Server> servers, std::vector<std::unique_ptr<PowerController>> controllers,
                           PowerSeriesSpool* series)
    : spec_(spec),
      replicas_(replicas),
      servers_(std::move(servers)),
      last_busy_s_(replicas->size(), 0),
      last_energy_j_(replicas->size(), 0),
      next_t_(spec.telemetry_interval_s),
      server_w_(servers_.size(), 0),
      controlled_(!controllers.empty()),
      replica_gpu_(replicas->size(), nullptr),
      states_(replicas->size()),
      series_(series) {
  for (const Server& s : servers_) {
    for (int i : s.replicas) replica_gpu_[static_cast<size_t>(i)] = s.gpu;
  }
  const std::string control_level = ControlLevel(spec);
  size_t next_controller = 0;
  for (const PowerDomain& p : PowerDomains(spec, static_cast<int>(servers_.size()))) {
    Domain d;
    d.spec = p;
    d.stats.name = p.name;
    d.stats.level = p.level;
    d.stats.first_server = p.first_server;
    d.stats.servers = p.servers;
    d.stats.budget_w = p.budget_w;
    for (int k = p.first_server; k < p.first_server + p.servers; ++k) {
      for (int i : servers_[static_cast<size_t>(k)].replicas) {
        // A replica spanning two servers of the domain is one replica of it.
        if (std::find(d.replicas.begin(), d.replicas.end(), i) == d.replicas.end()) d.replicas.push_back(i);
      }
    }
    if (p.level == control_level && next_controller < controllers.size()) {
      d.controller = std::move(controllers[next_controller++]);
    }
    domains_.push_back(std::move(d));
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
  if (controlled_) Control(0, 0, 0);
}

void PowerMonitor::Control(double t_s, double interval_s, double delay_s) {
  limits_w_.resize(replicas_->size());
  for (size_t i = 0; i < replicas_->size(); ++i) {
    const Replica& r = *(*replicas_)[i];
    states_[i].limit_w = limits_w_[i] = r.controller_limit_w();
    states_[i].waiting = r.waiting();
    states_[i].running = r.running();
  }
  for (Domain& d : domains_) {
    if (d.controller == nullptr) continue;
    scope_states_.clear();
    for (int i : d.replicas) scope_states_.push_back(states_[static_cast<size_t>(i)]);
    PowerReading reading{t_s, interval_s, d.last_w, d.spec.budget_w, spec_.actuation_delay_s, scope_states_};
    d.controller->Control(reading, &limits_w_);
  }
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

void PowerMonitor::Track(Domain& d, double w, double t_s, double interval_s) {
  DomainPowerStats& st = d.stats;
  d.last_w = w;
  st.energy_j += w * interval_s;
  st.peak_w = std::max(st.peak_w, w);
  d.readings_w.push_back(w);
  if (d.spec.budget_w > 0 && w > d.spec.budget_w) {
    st.time_over_budget_s += interval_s;
    if (d.over_since_s < 0) d.over_since_s = last_t_;
    if (!d.tripped && t_s - d.over_since_s >= spec_.breaker_window_s - 1e-9) {
      ++st.breaker_trips;
      d.tripped = true;
    }
  } else {
    d.over_since_s = -1;
    d.tripped = false;
  }
}

void PowerMonitor::Record(double t_s) {
  const double interval = t_s - last_t_;
  if (interval <= 0) return;
  for (size_t k = 0; k < servers_.size(); ++k) {
    const Server& s = servers_[k];
    server_w_[k] = 0;
    if (s.replicas.empty() && spec_.idle_servers_off) continue;
    const int gpus = s.node->gpus_per_node;
    double gpu_sum_w = (gpus - s.replica_gpus) * s.gpu->idle_w;  // GPUs without a replica idle
    for (size_t j = 0; j < s.replicas.size(); ++j) {
      const int i = s.replicas[j];
      const Replica& r = *(*replicas_)[i];
      const double busy = r.BusyUntil(t_s), energy = r.BusyEnergyUntil(t_s);
      const double per_gpu_j = (energy - last_energy_j_[i]) + s.gpu->idle_w * std::max(0.0, interval - (busy - last_busy_s_[i]));
      states_[static_cast<size_t>(i)].power_w = per_gpu_j / interval;
      gpu_sum_w += static_cast<double>(s.gpus_here[j]) * per_gpu_j / interval;
    }
    server_w_[k] = ServerPowerW(*s.node, *s.gpu, gpu_sum_w, gpus);
  }
  for (size_t i = 0; i < replicas_->size(); ++i) {
    last_busy_s_[i] = (*replicas_)[i]->BusyUntil(t_s);
    last_energy_j_[i] = (*replicas_)[i]->BusyEnergyUntil(t_s);
  }
  ++stats_.readings;
  for (Domain& d : domains_) {
    double w = 0;
    for (int k = d.spec.first_server; k < d.spec.first_server + d.spec.servers; ++k) w += server_w_[static_cast<size_t>(k)];
    Track(d, w, t_s, interval);
  }
  if (series_ != nullptr) {
    // Rows: the cluster, every server, then the racks and rows (PowerStats::series_names).
    series_rows_.push_back({t_s, 0, domains_[0].last_w});
    for (size_t k = 0; k < server_w_.size(); ++k) series_rows_.push_back({t_s, static_cast<int32_t>(1 + k), server_w_[k]});
    for (size_t i = 1; i < domains_.size(); ++i) {
      series_rows_.push_back({t_s, static_cast<int32_t>(server_w_.size() + i), domains_[i].last_w});
    }
    if (series_rows_.size() >= 4096 && series_error_.ok()) {
      series_error_ = series_->Append(series_rows_);
      series_rows_.clear();
    }
  }
  last_t_ = t_s;
  if (controlled_) Control(t_s, interval, spec_.actuation_delay_s);
}

absl::StatusOr<PowerStats> PowerMonitor::Finish(double end_s) {
  RecordUntil(end_s);
  controlled_ = false;  // the last, shorter reading ends the run: nothing left to control
  Record(end_s);
  PowerStats out = stats_;
  if (series_ != nullptr) {
    if (series_error_.ok()) series_error_ = series_->Append(series_rows_);
    series_rows_.clear();
    if (!series_error_.ok()) return series_error_;
    out.series_names.push_back("cluster");
    out.series_levels.push_back("cluster");
    for (size_t k = 0; k < servers_.size(); ++k) {
      out.series_names.push_back(absl::StrCat("server-", k));
      out.series_levels.push_back("server");
    }
    for (size_t i = 1; i < domains_.size(); ++i) {
      out.series_names.push_back(domains_[i].spec.name);
      out.series_levels.push_back(domains_[i].spec.level);
    }
  }
  for (Domain& d : domains_) {
    if (!d.readings_w.empty()) d.stats.p99_w = Percentile(d.readings_w, 99);
  }
  const DomainPowerStats& cluster = domains_[0].stats;
  out.it_energy_j = cluster.energy_j;
  out.it_peak_w = cluster.peak_w;
  out.it_p99_w = cluster.p99_w;
  out.time_over_budget_s = cluster.time_over_budget_s;
  out.breaker_trips = cluster.breaker_trips;
  for (size_t i = 1; i < domains_.size(); ++i) out.domains.push_back(domains_[i].stats);
  return out;
}

}  // namespace gpufleet
