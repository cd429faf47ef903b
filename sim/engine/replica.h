// One model replica: its queues, KV pool, batch scheduler and perf model, driven by the engine's calendar.
//
// The replica is a small state machine woken by the calendar (calendar.h): at a wake-up it finishes the
// iteration in progress, if any (tokens, first tokens, completions), then asks the scheduler for the next
// batch and the perf model how long it takes, and books its own next wake-up at the end of it. With
// nothing to do it stays idle until the router hands it a request. An iteration that would end past the
// run's time limit ends the run at the limit instead (run_guard.h). Requests are plain structs moved
// between queues, never an actor each.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <simgrid/s4u/Host.hpp>

#include "models/perf_model.h"
#include "models/power_model.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/routing/fleet_view.h"
#include "sim/engine/prefix_cache.h"
#include "sim/engine/replica_state.h"
#include "sim/metrics/request_log.h"

namespace gpufleet {

class Calendar;
class Disaggregation;
class Migrator;
class PowerMonitor;
class ProgressMeter;
class RunGuard;
class SeriesSampler;

// What every replica shares with the rest of the run.
struct RunContext {
  RequestLog* log = nullptr;
  ProgressMeter* progress = nullptr;
  SeriesSampler* series = nullptr;  // null unless the run records a time series
  PowerMonitor* power = nullptr;    // the cluster's power readings (power_monitor.h)
  RunGuard* guard = nullptr;        // the run's limits; ends the run past them
  Calendar* calendar = nullptr;     // who acts next, and when
  Disaggregation* handoff = nullptr;  // KV transfers: prefill-to-decode hand-offs and migrations; null without either
  Migrator* migrator = nullptr;       // live-migration rounds; null without a migration policy
  double now_s = 0;                 // the date of the event being handled
  int64_t completed = 0;
  int64_t tokens_out = 0;
};

// Brings the run's samplers (time series, power readings) up to `now_s`: call before changing any state.
void CatchUpSamplers(RunContext* ctx, double now_s);

struct ReplicaStats {
  int64_t requests = 0;
  int64_t prefill_tokens = 0;   // tokens computed in prefill, recomputes after preemption included
  int64_t output_tokens = 0;
  int64_t completed = 0;
  int64_t iterations = 0;
  double busy_s = 0;
  // Per GPU of the replica (they all do the same work): energy while iterations ran (idle power included;
  // between iterations a GPU draws its idle power), the perf model's activity and the time a power limit
  // lowered the clock.
  double busy_energy_j = 0;
  double compute_s = 0, memory_s = 0, comm_s = 0;
  double flops = 0, hbm_bytes = 0;
  double capped_s = 0;
  int64_t capped_iterations = 0;
  double peak_power_w = 0;  // the highest iteration mean
  int64_t preemptions = 0;     // by recompute and by swap
  int64_t swaps = 0;           // preemptions by swap to host memory
  double swap_s = 0;           // iteration time spent moving swapped caches over PCIe
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_peak = 0;
  int64_t max_running = 0;
  // Disaggregated serving: requests handed to decode replicas (prefill), adopted from prefill replicas
  // (decode), and the time the replica sat idle while a cache was on its way to it.
  int64_t handed_off = 0;
  int64_t adopted = 0;
  double kv_wait_s = 0;
  PrefixCacheStats prefix;  // shared-prefix cache (prefix_cache.h); all 0 without one
  int64_t migrated_out = 0, migrated_in = 0;  // live migration (migration.h)
};

// What a replica serves (ReplicaGroup::role).
enum class ReplicaRole { kMixed, kPrefill, kDecode };

class Replica {
 public:
  // `perf` (shared by the replicas of a group on one node type) and `power` outlive the replica;
  // `power_limit_w` 0 is the GPU's TDP.
  Replica(int id, int group, std::vector<simgrid::s4u::Host*> gpus, const PerfModel* perf,
          std::unique_ptr<BatchScheduler> scheduler, int64_t kv_blocks, int block_size, SchedulerLimits limits,
          const GpuPowerParams* power, double power_limit_w, RunContext* ctx);

  // The view the replica publishes its load to (the router's, or the decode replicas'), as entry `index`;
  // before the first event.
  void Bind(FleetView* fleet, int index, ReplicaRole role);
  ReplicaRole role() const { return role_; }

  // Hands over a request arriving now (prompt possibly truncated); an idle replica books a wake-up now,
  // after the arrivals of this instant.
  void Enqueue(const TraceRequest& req, uint32_t prompt_tokens, uint32_t output_tokens);
  // Disaggregated serving (disaggregation.h). A decode replica: the cache of a request with
  // `output_tokens_left` to generate is on its way to it (ExpectKv: the request counts in its load from
  // now, so that hand-offs made while it travels see it), or has landed now with its request (Adopt). A
  // prefill replica: a cache it sent has landed, so its `blocks` are free again.
  void ExpectKv(int64_t output_tokens_left);
  // `migrated`: the request moved here from another serving replica (live migration), not from prefill.
  void Adopt(const Sequence& seq, bool migrated = false);
  void ReleaseSentKv(int64_t blocks);
  // Live migration (migration.h): send one running request to replica `to` (global index) once the
  // iteration in progress ends (now if none is): the decode-phase request with the smallest cache. Ignored
  // while an earlier request is pending; nothing happens when no request is in its decode phase.
  void RequestMigration(int to);
  // The calendar's call at the date the replica booked: ends the iteration in progress, starts the next.
  void Wake();
  // The engine asks before handing the replica a calendar event at `t_s`: true when the event is a
  // booking for a timed wait (BatchScheduler: state.wake_at_s) that an arrival has since cut short, which
  // the engine then drops without advancing the run's clock.
  bool TakeStaleWake(double t_s);
  // For schedulers that price preemption by swap: the model's KV bytes per token (whole replica) and the
  // host<->GPU bandwidth of all its GPUs together, one direction, bytes/s (0: it cannot swap).
  void SetHostLink(double kv_bytes_per_token, double host_link_bytes_per_s);

  // Sets aside `fraction` of the KV pool as a cache of shared prompt prefixes (prefix_cache.h); before
  // the first request.
  void EnablePrefixCache(double fraction);
  const PrefixCacheStats& prefix_stats() const { return prefix_cache_.stats(); }

  ReplicaStats stats() const;
  int id() const { return id_; }
  int group() const { return group_; }
  const std::vector<simgrid::s4u::Host*>& gpus() const { return gpus_; }
  // Requests still queued or running (non-zero after a run that was not stopped means the replica was stuck).
  size_t unfinished() const { return state_.waiting.size() + state_.running.size(); }
  template <class Fn>
  void ForEachUnfinished(Fn fn) const {
    for (const Sequence* s : state_.running) fn(*s);
    for (const Sequence* s : state_.waiting) fn(*s);
  }
  // When the iteration in progress ends; -1 when none is.
  double iteration_end_s() const { return in_iteration_ ? iteration_start_s_ + iteration_s_ : -1; }

  // For the series sampler: the state now, and busy time up to `t_s` (no later than now), which counts
  // the elapsed part of an iteration in progress so that intervals split a straddling iteration exactly.
  int64_t waiting() const { return static_cast<int64_t>(state_.waiting.size()); }
  int64_t running() const { return static_cast<int64_t>(state_.running.size()); }
  int64_t kv_used_blocks() const { return state_.kv.used(); }
  double BusyUntil(double t_s) const {
    if (!in_iteration_ || t_s <= iteration_start_s_) return stats_.busy_s;
    return stats_.busy_s + std::min(t_s - iteration_start_s_, iteration_s_);
  }
  // Busy energy of one GPU up to `t_s`, the iteration in progress counted pro rata.
  double BusyEnergyUntil(double t_s) const {
    if (!in_iteration_ || t_s <= iteration_start_s_ || iteration_s_ <= 0) return stats_.busy_energy_j;
    return stats_.busy_energy_j + iteration_energy_j_ * std::min(1.0, (t_s - iteration_start_s_) / iteration_s_);
  }
  const GpuPowerParams& power() const { return *power_; }

  // A power controller's limit per GPU (0: none; the group's own power_limit_w still bounds it), from
  // `at_s` on: it applies from the first iteration starting then or later.
  void SetControllerLimit(double limit_w, double at_s) { pending_limits_.push_back({at_s, limit_w}); }
  // The controller's latest limit, in force or on its way.
  double controller_limit_w() const {
    return pending_limits_.empty() ? controller_limit_w_ : pending_limits_.back().limit_w;
  }

 private:
  void FinishIteration(double now_s);
  void StartIteration(double now_s);
  void ApplyBatch(double now_s);
  Sequence* NewSequence();
  void FreeSequence(Sequence* seq);
  void WakeNowIfIdle();
  void MigrateOut();

  int id_;
  int group_;
  std::vector<simgrid::s4u::Host*> gpus_;
  const PerfModel* perf_;
  std::unique_ptr<BatchScheduler> scheduler_;
  ReplicaState state_;
  PrefixCache prefix_cache_;
  RunContext* ctx_;
  bool idle_ = true;
  double wait_until_s_ = -1;     // idle with a timed wait until then; -1: waiting for an arrival only
  std::vector<double> timers_;   // dates of timed-wait bookings still in the calendar
  bool in_iteration_ = false;
  double iteration_start_s_ = 0;
  double iteration_s_ = 0;
  double iteration_energy_j_ = 0;
  IterationCost iteration_cost_;
  PoweredIteration iteration_power_;
  const GpuPowerParams* power_;
  double power_limit_w_;             // the group's own (0: TDP)
  double controller_limit_w_ = 0;    // a controller's, in force (0: none)
  struct PendingLimit {
    double at_s;
    double limit_w;
  };
  std::deque<PendingLimit> pending_limits_;  // a controller's limits on their way, in time order

  FleetView* fleet_ = nullptr;
  ReplicaRole role_ = ReplicaRole::kMixed;
  int inbound_kv_ = 0;           // caches on their way to this (decode) replica
  int migrate_to_ = -1;          // a migration waiting for the iteration in progress to end
  double starved_since_ = -1;    // idle with a cache on its way since then; -1: not
  ReplicaLoad load_;
  ReplicaStats stats_;
  std::vector<ScheduledSeq> batch_;
  std::vector<SeqWork> work_;
  struct GapGroup {
    double last_token_s;
    uint32_t count;
  };
  std::vector<GapGroup> gap_groups_;  // sequences of one iteration grouped by their previous token time
  std::deque<Sequence> pool_;
  std::vector<Sequence*> free_;
};

}  // namespace gpufleet
