// Background NVML power/clock sampling (see power_sampler.h).
#include "tools/microbench/power_sampler.h"

#include <signal.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gpufleet::microbench {
namespace {
// NVML's power reading is a ~1 s moving average on H100-class GPUs: a mean of polls means little below.
constexpr double kMinPolledPowerWindowSeconds = 1.0;
}  // namespace

void EnergySlope::Add(double t_s, double joules) {
  if (have_last_ && joules < last_j_) backwards_ = true;
  if (have_last_ && joules != last_j_) {
    if (changes_ == 0) {
      first_t_ = t_s;
      first_j_ = joules;
    }
    change_t_ = t_s;
    change_j_ = joules;
    ++changes_;
  }
  last_j_ = joules;
  have_last_ = true;
}

std::optional<double> EnergySlope::Watts(double min_span_s) const {
  if (backwards_ || changes_ < 2) return std::nullopt;
  const double span = change_t_ - first_t_;
  if (span <= 0 || span < min_span_s) return std::nullopt;
  return (change_j_ - first_j_) / span;
}

std::string ClockEventNames(uint64_t mask) {
  // nvml.h's nvmlClocksEventReason* bits.
  static const std::pair<uint64_t, const char*> kNames[] = {
      {0x1, "gpu_idle"},     {0x2, "applications_clocks"}, {0x4, "sw_power_cap"},
      {0x8, "hw_slowdown"},  {0x10, "sync_boost"},         {0x20, "sw_thermal"},
      {0x40, "hw_thermal"},  {0x80, "hw_power_brake"},     {0x100, "display_clocks"}};
  if (mask == 0) return "none";
  std::string out;
  uint64_t known = 0;
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (mask & bit) absl::StrAppend(&out, out.empty() ? "" : "|", name);
  }
  if (mask & ~known) absl::StrAppend(&out, out.empty() ? "" : "|", absl::StrFormat("0x%x", mask & ~known));
  return out;
}

PowerSampler::PowerSampler(const Nvml* nvml, std::vector<NvmlDevice> devices, std::chrono::milliseconds period)
    : nvml_(nvml), devices_(std::move(devices)), period_(period) {}

PowerSampler::~PowerSampler() {
  if (thread_.joinable()) Stop();
}

void PowerSampler::Poll() {
  double power = 0, clock = 0;
  int np = 0, nc = 0;
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  for (size_t i = 0; i < devices_.size(); ++i) {
    NvmlDevice d = devices_[i];
    if (i < energy_.size()) {
      if (auto e = nvml_->TotalEnergyJoules(d); e.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        energy_[i].Add(t, *e);
      }
    }
    if (auto p = nvml_->PowerWatts(d); p.ok()) {
      power += *p;
      ++np;
    }
    if (auto c = nvml_->SmClockMhz(d); c.ok()) {
      clock += *c;
      ++nc;
    }
    if (auto e = nvml_->ClockEventReasons(d); e.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      clock_events_ |= *e;
      have_clock_events_ = true;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (np > 0) {
    power_sum_ += power / np;
    ++power_polls_;
  }
  if (nc > 0) {
    clock_sum_ += clock / nc;
    ++clock_polls_;
  }
}

void PowerSampler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (running_) {
    if (cv_.wait_for(lock, period_, [this] { return !running_; })) break;
    lock.unlock();
    Poll();
    lock.lock();
  }
}

void PowerSampler::Start() {
  if (!enabled()) return;
  if (thread_.joinable()) Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    power_sum_ = clock_sum_ = 0;
    power_polls_ = clock_polls_ = 0;
    clock_events_ = 0;
    have_clock_events_ = false;
    running_ = true;
  }
  energy_.clear();
  bool counters = true;
  for (NvmlDevice d : devices_) counters = counters && nvml_->TotalEnergyJoules(d).ok();
  if (counters) energy_.resize(devices_.size());
  start_ = std::chrono::steady_clock::now();
  Poll();
  // The thread inherits the signal mask: keep SIGINT/SIGTERM off it. The second Ctrl-C calls NVML from the
  // handler (power_limit.h, EmergencyRestore); run on this thread in the middle of a poll, that would
  // re-enter NVML (and its locks) on the same thread and could hang instead of restoring and exiting.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] { Loop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

PowerReading PowerSampler::Stop() {
  PowerReading r;
  if (!enabled()) return r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  r.window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (power_polls_ == 0 && clock_polls_ == 0) Poll();
  std::lock_guard<std::mutex> lock(mu_);
  if (!energy_.empty()) {
    double sum_w = 0;
    bool ok = true;
    for (const EnergySlope& e : energy_) {
      const std::optional<double> w = e.Watts(min_power_window_s_);
      ok = ok && w.has_value();
      if (ok) sum_w += *w;
    }
    if (ok) {
      r.mean_power_w = sum_w / static_cast<double>(energy_.size());
      r.energy_j = *r.mean_power_w * r.window_s;
    }
  } else if (power_polls_ > 0 && r.window_s >= kMinPolledPowerWindowSeconds) {
    r.mean_power_w = power_sum_ / power_polls_;
  }
  if (clock_polls_ > 0) r.sm_clock_mhz = clock_sum_ / clock_polls_;
  if (have_clock_events_) r.clock_events = clock_events_;
  r.polls = std::max(power_polls_, clock_polls_);
  return r;
}

}  // namespace gpufleet::microbench
