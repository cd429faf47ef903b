// Background NVML power/clock sampling (see power_sampler.h).
#include "tools/microbench/power_sampler.h"

#include <signal.h>

namespace gpufleet::microbench {

PowerSampler::PowerSampler(const Nvml* nvml, std::vector<NvmlDevice> devices, std::chrono::milliseconds period)
    : nvml_(nvml), devices_(std::move(devices)), period_(period) {}

PowerSampler::~PowerSampler() {
  if (thread_.joinable()) Stop();
}

void PowerSampler::Poll() {
  double power = 0, clock = 0;
  int np = 0, nc = 0;
  for (NvmlDevice d : devices_) {
    if (auto p = nvml_->PowerWatts(d); p.ok()) {
      power += *p;
      ++np;
    }
    if (auto c = nvml_->SmClockMhz(d); c.ok()) {
      clock += *c;
      ++nc;
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
    running_ = true;
  }
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
  if (power_polls_ == 0 && clock_polls_ == 0) Poll();
  std::lock_guard<std::mutex> lock(mu_);
  if (power_polls_ > 0) r.mean_power_w = power_sum_ / power_polls_;
  if (clock_polls_ > 0) r.sm_clock_mhz = clock_sum_ / clock_polls_;
  r.polls = std::max(power_polls_, clock_polls_);
  return r;
}

}  // namespace gpufleet::microbench
