// The replica state machine (see replica.h).
#include "sim/engine/replica.h"

#include <algorithm>
#include <span>

#include "sim/engine/calendar.h"
#include "sim/engine/disaggregation.h"
#include "sim/engine/power_monitor.h"
#include "sim/engine/progress.h"
#include "sim/engine/run_guard.h"
#include "sim/engine/series_sampler.h"

namespace gpufleet {

void CatchUpSamplers(RunContext* ctx, double now_s) {
  if (ctx->series != nullptr) ctx->series->CatchUp(now_s);
  if (ctx->power != nullptr) ctx->power->CatchUp(now_s);
}

Replica::Replica(int id, int group, std::vector<simgrid::s4u::Host*> gpus, const PerfModel* perf,
                 std::unique_ptr<BatchScheduler> scheduler, int64_t kv_blocks, int block_size,
                 SchedulerLimits limits, const GpuPowerParams* power, double power_limit_w, RunContext* ctx)
    : id_(id), group_(group), gpus_(std::move(gpus)), perf_(perf), scheduler_(std::move(scheduler)),
      ctx_(ctx), power_(power), power_limit_w_(power_limit_w) {
  state_.kv = KvBlockPool(kv_blocks, block_size);
  state_.limits = limits;
  load_.replica = id;
  load_.group = group;
  load_.kv_total_blocks = kv_blocks;
  load_.kv_free_blocks = kv_blocks;
  // What recomputing a preempted sequence costs: a prefill of its tokens alone (schedulers that choose
  // between swap and recompute compare it with the PCIe time, SetHostLink).
  state_.costs.prefill_s = [perf](int64_t tokens) {
    const SeqWork w{static_cast<uint32_t>(std::max<int64_t>(1, tokens)), 0};
    return perf->IterationTime(std::span<const SeqWork>(&w, 1));
  };
}

void Replica::SetHostLink(double kv_bytes_per_token, double host_link_bytes_per_s) {
  state_.costs.kv_bytes_per_token = kv_bytes_per_token;
  state_.costs.host_link_bytes_per_s = host_link_bytes_per_s;
}

bool Replica::TakeStaleWake(double t_s) {
  auto it = std::find(timers_.begin(), timers_.end(), t_s);
  if (it == timers_.end()) return false;
  timers_.erase(it);
  // Live while the replica still waits for this date; an arrival may have ended the wait (and a later
  // iteration may be in progress), or the scheduler may since have asked for another date.
  return !(idle_ && t_s == wait_until_s_);
}

Sequence* Replica::NewSequence() {
  if (free_.empty()) {
    pool_.emplace_back();
    return &pool_.back();
  }
  Sequence* s = free_.back();
  free_.pop_back();
  *s = Sequence{};
  return s;
}

void Replica::FreeSequence(Sequence* seq) { free_.push_back(seq); }

void Replica::Bind(FleetView* fleet, int index, ReplicaRole role) {
  fleet_ = fleet;
  load_.replica = index;
  role_ = role;
}

void Replica::WakeNowIfIdle() {
  if (!idle_) return;
  idle_ = false;
  ctx_->calendar->Schedule(ctx_->now_s, id_);
}

void Replica::ExpectKv(int64_t output_tokens_left) {
  ++inbound_kv_;
  ++load_.outstanding_requests;
  load_.outstanding_tokens += output_tokens_left;
  fleet_->Update(load_);
  if (idle_ && starved_since_ < 0) starved_since_ = ctx_->now_s;
}

void Replica::RequestMigration(int to) {
  if (migrate_to_ >= 0 || to == id_) return;
  migrate_to_ = to;
  if (!in_iteration_) MigrateOut();
}

void Replica::MigrateOut() {
  const int to = migrate_to_;
  migrate_to_ = -1;
  // The cheapest request to move: in its decode phase (a prompt in progress has a cache still growing
  // under the scheduler), with the fewest cached tokens; the earliest in the running order on ties.
  Sequence* pick = nullptr;
  for (Sequence* s : state_.running) {
    if (s->generated == 0 || s->finished() || s->computed < s->known_tokens() - 1) continue;
    if (pick == nullptr || s->computed < pick->computed) pick = s;
  }
  if (pick == nullptr) return;
  state_.running.erase(std::find(state_.running.begin(), state_.running.end(), pick));
  if (pick->cached_prefix_tokens > 0) {
    prefix_cache_.Unpin(pick->req.prefix_id);
    pick->cached_prefix_tokens = 0;
  }
  --load_.outstanding_requests;
  load_.outstanding_tokens -= pick->req.output_tokens - pick->generated;
  ++stats_.migrated_out;
  ctx_->handoff->Migrate(*this, *pick, pick->blocks, to);
  pick->blocks = 0;
  FreeSequence(pick);
  load_.kv_free_blocks = state_.kv.free();
  fleet_->Update(load_);
}

void Replica::Adopt(const Sequence& landed, bool migrated) {
  const double now_s = ctx_->now_s;
  --inbound_kv_;
  if (starved_since_ >= 0) {
    stats_.kv_wait_s += now_s - starved_since_;
    starved_since_ = -1;
  }
  Sequence* seq = NewSequence();
  *seq = landed;
  seq->replica = id_;
  seq->blocks = 0;
  seq->cached_prefix_tokens = 0;  // this replica holds the whole cache that landed
  // The cache lands in blocks the replica holds for it; with none free (or no batch slot) the request
  // queues, and the scheduler admits it like a preempted one whose cache is kept.
  if (static_cast<int64_t>(state_.running.size()) < state_.limits.max_batch_size &&
      state_.kv.Reserve(*seq, seq->known_tokens())) {
    state_.running.push_back(seq);
  } else {
    state_.waiting.push_back(seq);
    if (!migrated) ++ctx_->handoff->log().landed_without_room;
  }
  load_.kv_free_blocks = state_.kv.free();
  if (migrated) {
    ++stats_.migrated_in;
  } else {
    ++stats_.requests;
    ++stats_.adopted;
  }
  fleet_->Update(load_);
  WakeNowIfIdle();
}

void Replica::ReleaseSentKv(int64_t blocks) {
  state_.kv.ReleaseBlocks(blocks);
  load_.kv_free_blocks = state_.kv.free();
  fleet_->Update(load_);
  // Prompts may have been waiting for these blocks.
  if (!state_.waiting.empty()) WakeNowIfIdle();
}

void Replica::EnablePrefixCache(double fraction) {
  const int64_t blocks = static_cast<int64_t>(fraction * static_cast<double>(state_.kv.total()));
  if (blocks <= 0) return;
  prefix_cache_ = PrefixCache(blocks, state_.kv.block_size());
  state_.kv = KvBlockPool(state_.kv.total() - blocks, state_.kv.block_size());
}

void Replica::Enqueue(const TraceRequest& req, uint32_t prompt_tokens, uint32_t output_tokens) {
  Sequence* seq = NewSequence();
  seq->req = req;
  seq->req.output_tokens = output_tokens;
  seq->prompt_tokens = prompt_tokens;
  seq->replica = id_;
  if (prefix_cache_.enabled() && req.prefix_id != 0) {
    // A hit starts the request with its prefix computed; truncation may have shortened the prompt.
    const uint32_t usable = std::min(req.prefix_tokens, prompt_tokens > 0 ? prompt_tokens - 1 : 0);
    seq->cached_prefix_tokens = static_cast<uint32_t>(prefix_cache_.Lookup(req.prefix_id, usable));
    seq->computed = seq->cached_prefix_tokens;
  }
  const uint32_t prompt_work = prompt_tokens - seq->cached_prefix_tokens;
  state_.waiting.push_back(seq);
  ++load_.outstanding_requests;
  load_.outstanding_tokens += prompt_work + output_tokens;
  load_.queued_prompt_tokens += prompt_work;
  ++stats_.requests;
  fleet_->Update(load_);
  WakeNowIfIdle();
}

ReplicaStats Replica::stats() const {
  ReplicaStats s = stats_;
  s.preemptions = state_.preemptions;
  s.swaps = state_.swaps;
  s.kv_blocks_total = state_.kv.total();
  s.kv_blocks_peak = state_.kv.peak_used();
  s.prefix = prefix_cache_.stats();
  return s;
}

void Replica::Wake() {
  // A timed wait (StartIteration) ends here; otherwise the replica was booked busy and these change nothing.
  idle_ = false;
  wait_until_s_ = -1;
  if (in_iteration_) FinishIteration(ctx_->now_s);
  StartIteration(ctx_->now_s);
}

void Replica::StartIteration(double now_s) {
  state_.now_s = now_s;
  CatchUpSamplers(ctx_, now_s);  // before the scheduler moves queues
  state_.swap_s = 0;
  state_.wake_at_s = -1;
  scheduler_->Schedule(state_, &batch_);
  if (batch_.empty()) {
    // Nothing runnable: wait for the router (or a landing cache, or blocks a landed transfer frees). With
    // work still queued and nothing on its way this would wait forever; the run reports it as stuck.
    idle_ = true;
    if (inbound_kv_ > 0) starved_since_ = now_s;
    if (state_.wake_at_s > now_s) {
      // The scheduler waits for its batch to fill until then: book that date unless a booking left by an
      // earlier wait already holds it (the calendar cannot take bookings back; TakeStaleWake drops them).
      wait_until_s_ = state_.wake_at_s;
      if (std::find(timers_.begin(), timers_.end(), wait_until_s_) == timers_.end()) {
        timers_.push_back(wait_until_s_);
        ctx_->calendar->Schedule(wait_until_s_, id_);
      }
    }
    return;
  }
  work_.clear();
  for (const ScheduledSeq& s : batch_) {
    work_.push_back({s.tokens, s.seq->computed});
    if (s.seq->first_scheduled_s < 0) s.seq->first_scheduled_s = now_s;
  }
  while (!pending_limits_.empty() && pending_limits_.front().at_s <= now_s) {
    controller_limit_w_ = pending_limits_.front().limit_w;
    pending_limits_.pop_front();
  }
  double limit_w = power_limit_w_;
  if (controller_limit_w_ > 0 && (limit_w <= 0 || controller_limit_w_ < limit_w)) limit_w = controller_limit_w_;
  iteration_cost_ = perf_->Cost(work_);
  iteration_power_ = PowerIteration(iteration_cost_, *power_, limit_w);
  if (state_.swap_s > 0) {
    // Swaps block the step (vLLM moves the blocks before the forward pass): the GPUs wait on PCIe at idle power.
    iteration_power_.seconds += state_.swap_s;
    iteration_power_.energy_j += state_.swap_s * power_->idle_w;
    iteration_power_.power_w = iteration_power_.energy_j / iteration_power_.seconds;
    stats_.swap_s += state_.swap_s;
  }
  in_iteration_ = true;
  iteration_start_s_ = now_s;
  iteration_s_ = iteration_power_.seconds;
  iteration_energy_j_ = iteration_power_.energy_j;
  load_.busy_until_s = now_s + iteration_s_;
  fleet_->Update(load_);
  if (role_ == ReplicaRole::kPrefill && ctx_->handoff->streams()) {
    // Layer-wise overlap: the caches of prompts this iteration completes start streaming now.
    for (const ScheduledSeq& s : batch_) {
      const Sequence& seq = *s.seq;
      if (seq.generated == 0 && seq.computed + s.tokens >= seq.known_tokens() && seq.req.output_tokens > 1) {
        ctx_->handoff->Stream(*this, seq);
      }
    }
  }
  // An end past the run's limit is never reached: the run ends at the limit with this iteration in
  // progress (its busy time counts up to there, its tokens are never emitted).
  ctx_->calendar->Schedule(now_s + iteration_s_, id_);
}

void Replica::FinishIteration(double now_s) {
  CatchUpSamplers(ctx_, now_s);  // before the batch applies
  in_iteration_ = false;
  const IterationCost& cost = iteration_cost_;
  const PoweredIteration& powered = iteration_power_;
  stats_.busy_s += iteration_s_;
  stats_.busy_energy_j += powered.energy_j;
  stats_.compute_s += cost.compute_s / powered.clock_scale;
  stats_.memory_s += cost.memory_s;
  stats_.comm_s += cost.comm_s;
  stats_.flops += cost.flops;
  stats_.hbm_bytes += cost.hbm_bytes;
  stats_.peak_power_w = std::max(stats_.peak_power_w, powered.power_w);
  if (powered.clock_scale < 1) {
    stats_.capped_s += iteration_s_;
    ++stats_.capped_iterations;
  }
  ++stats_.iterations;
  stats_.max_running = std::max<int64_t>(stats_.max_running, static_cast<int64_t>(state_.running.size()));
  ApplyBatch(now_s);
  load_.kv_free_blocks = state_.kv.free();
  fleet_->Update(load_);
  if (migrate_to_ >= 0) MigrateOut();
  ctx_->progress->Tick(now_s, ctx_->completed);
}

void Replica::ApplyBatch(double now_s) {
  RequestLog& log = *ctx_->log;
  const double tbt_target = log.slo().tbt_s;
  gap_groups_.clear();
  bool any_leaving = false;  // finished, or handed to a decode replica
  const bool prefill_only = role_ == ReplicaRole::kPrefill;
  for (const ScheduledSeq& s : batch_) {
    Sequence& seq = *s.seq;
    // Everything but the one token of a decode step is prefill work (prompts, chunks and recomputes).
    const bool decode_step = seq.generated > 0 && s.tokens == 1 && seq.computed + 1 == seq.known_tokens();
    if (!decode_step) stats_.prefill_tokens += s.tokens;
    seq.computed += s.tokens;
    if (seq.computed < seq.known_tokens()) continue;  // a prompt chunk: no token yet
    if (seq.generated == 0) {
      seq.first_token_s = now_s;
      load_.outstanding_tokens -= seq.prompt_tokens - seq.cached_prefix_tokens;
      load_.queued_prompt_tokens -= seq.prompt_tokens - seq.cached_prefix_tokens;
      if (prefix_cache_.enabled() && seq.req.prefix_id != 0 && seq.cached_prefix_tokens < seq.req.prefix_tokens) {
        prefix_cache_.Insert(seq.req.prefix_id, std::min(seq.req.prefix_tokens, seq.prompt_tokens));
      }
    } else {
      const double gap = now_s - seq.last_token_s;
      seq.max_gap_s = std::max(seq.max_gap_s, gap);
      if (gap > tbt_target) ++seq.gaps_over_tbt_target;
      // Sequences that last emitted at the same instant share the gap: count them as one weighted sample.
      auto it = std::find_if(gap_groups_.begin(), gap_groups_.end(),
                             [&](const GapGroup& g) { return g.last_token_s == seq.last_token_s; });
      if (it == gap_groups_.end()) {
        gap_groups_.push_back({seq.last_token_s, 1});
      } else {
        ++it->count;
      }
    }
    ++seq.generated;
    seq.last_token_s = now_s;
    --load_.outstanding_tokens;
    ++stats_.output_tokens;
    ++ctx_->tokens_out;
    if (seq.finished() || (prefill_only && seq.generated == 1)) any_leaving = true;
  }
  for (const GapGroup& g : gap_groups_) log.AddGaps(now_s - g.last_token_s, g.count);
  if (!any_leaving) return;
  auto done = std::stable_partition(state_.running.begin(), state_.running.end(), [&](const Sequence* s) {
    return !s->finished() && !(prefill_only && s->generated >= 1);
  });
  for (auto it = done; it != state_.running.end(); ++it) {
    Sequence* seq = *it;
    if (seq->cached_prefix_tokens > 0) prefix_cache_.Unpin(seq->req.prefix_id);
    if (!seq->finished()) {
      // Prefilled: the cache moves to a decode replica; its blocks stay held here until it lands.
      load_.outstanding_tokens -= seq->req.output_tokens - seq->generated;
      --load_.outstanding_requests;
      ++stats_.handed_off;
      ctx_->handoff->Send(*this, *seq, seq->blocks);
      seq->blocks = 0;
      FreeSequence(seq);
      continue;
    }
    state_.kv.Release(*seq);
    log.OnCompleted(*seq, now_s);
    --load_.outstanding_requests;
    ++stats_.completed;
    ++ctx_->completed;
    FreeSequence(seq);
  }
  state_.running.erase(done, state_.running.end());
}

}  // namespace gpufleet
