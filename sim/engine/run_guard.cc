// The run's limits (see run_guard.h).
#include "sim/engine/run_guard.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {
namespace {

double DefaultLimit(double span_s) {
  return std::min(kMaxSimTimeS, std::max(RunGuard::kDefaultLimitFactor * span_s, RunGuard::kMinDefaultLimitS));
}

}  // namespace

RunGuard::RunGuard(double max_sim_time_s, double horizon_s, int64_t fleet_capacity)
    : limit_from_last_arrival_(max_sim_time_s <= 0 && !std::isfinite(horizon_s)), fleet_capacity_(fleet_capacity) {
  if (max_sim_time_s > 0) {
    limit_s_ = max_sim_time_s;
    limit_source_ = "limits.max_sim_time_s";
  } else if (std::isfinite(horizon_s)) {
    limit_s_ = DefaultLimit(horizon_s);
    limit_source_ = "the default, 10 x horizon_s and at least 3600 s; limits.max_sim_time_s sets another";
  } else {
    // Until arrivals end, nothing says how long the workload lasts: only the ceiling applies.
    limit_s_ = kMaxSimTimeS;
    limit_source_ = "the ceiling of simulated time";
  }
}

void RunGuard::StopAtLimit() {
  Stop(absl::StrFormat("simulated time reached its limit of %g s (%s)", limit_s_, limit_source_));
}

void RunGuard::Stop(std::string reason) {
  if (stopped()) return;
  reason_ = std::move(reason);
}

bool RunGuard::CheckBacklog(double now_s, int64_t outstanding, int64_t output_left, int64_t output_done) {
  if (now_s < next_checkpoint_s_) return false;
  // The next multiple of kCheckpointS: a quiet stretch between arrivals yields one checkpoint, not many.
  next_checkpoint_s_ = (std::floor(now_s / kCheckpointS) + 1) * kCheckpointS;
  return TakeCheckpoint({now_s, outstanding, output_left, output_done});
}

bool RunGuard::OnArrivalsDone(double now_s, int64_t outstanding, int64_t output_left, int64_t output_done) {
  if (limit_from_last_arrival_) {
    limit_s_ = DefaultLimit(now_s);
    limit_source_ = "the default without horizon_s, 10 x the last arrival and at least 3600 s; "
                    "limits.max_sim_time_s sets another";
  }
  if (!checkpoints_.empty() && checkpoints_.back().t_s >= now_s) return false;
  return TakeCheckpoint({now_s, outstanding, output_left, output_done});
}

bool RunGuard::TakeCheckpoint(const Checkpoint& c) {
  checkpoints_.push_back(c);
  if (checkpoints_.size() > static_cast<size_t>(kGrowthCheckpoints) + 1) checkpoints_.pop_front();
  if (checkpoints_.size() <= static_cast<size_t>(kGrowthCheckpoints)) return false;
  if (c.outstanding <= kBacklogFactor * fleet_capacity_) return false;
  for (size_t i = 1; i < checkpoints_.size(); ++i) {
    if (checkpoints_[i].outstanding <= checkpoints_[i - 1].outstanding) return false;
  }
  // Output tokens only: prefill is cheaper per token and is left out, so the forecast errs towards going on.
  const Checkpoint& first = checkpoints_.front();
  const double window_s = c.t_s - first.t_s;
  const double rate = static_cast<double>(c.output_done - first.output_done) / window_s;
  const double left_s = limit_s_ - c.t_s;
  if (static_cast<double>(c.output_left) <= rate * left_s) return false;
  Stop(absl::StrFormat(
      "the backlog diverges: at %.3f s, %d requests are outstanding, more at each of the last %d checkpoints "
      "and over %d x the %d sequences the fleet can run at once; their %d output tokens still to generate "
      "would take the fleet, at its %.6g output tokens/s of the last %.3f s, past the limit of %g s (%s)",
      c.t_s, c.outstanding, kGrowthCheckpoints, kBacklogFactor, fleet_capacity_, c.output_left, rate, window_s,
      limit_s_, limit_source_));
  return true;
}

}  // namespace gpufleet
