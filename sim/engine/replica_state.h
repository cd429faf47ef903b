// The scheduling state of one model replica: its waiting queue, running set and KV block pool.
//
// Owned by the replica and handed to its BatchScheduler each iteration. Sequences are owned
// elsewhere (the replica's pool); the state holds pointers, in priority order (FCFS by arrival).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "sim/engine/sequence.h"

namespace gpufleet {

// A counting pool of fixed-size KV blocks (no prefix sharing yet, so a count is all a block table is).
class KvBlockPool {
 public:
  explicit KvBlockPool(int64_t total = 0, int block_size = 16) : total_(total), free_(total), block_size_(block_size) {}
  int64_t total() const { return total_; }
  int64_t free() const { return free_; }
  int64_t used() const { return total_ - free_; }
  int64_t peak_used() const { return peak_used_; }
  int block_size() const { return block_size_; }
  int64_t BlocksFor(int64_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }

  // Grows `seq` to hold `tokens` cached tokens; false (and no change) when the pool is short.
  bool Reserve(Sequence& seq, int64_t tokens) {
    // Blocks of a cached prefix are the prefix cache's, read in place (prefix_cache.h).
    const int64_t need = BlocksFor(tokens) - seq.cached_prefix_tokens / block_size_ - seq.blocks;
    if (need <= 0) return true;
    if (need > free_) return false;
    free_ -= need;
    seq.blocks += need;
    if (used() > peak_used_) peak_used_ = used();
    return true;
  }
  void Release(Sequence& seq) {
    free_ += seq.blocks;
    seq.blocks = 0;
  }
  // Frees blocks no sequence holds any more (a prefilled cache kept until its transfer lands).
  void ReleaseBlocks(int64_t blocks) { free_ += blocks; }

 private:
  int64_t total_;
  int64_t free_;
  int block_size_;
  int64_t peak_used_ = 0;
};

struct SchedulerLimits {
  int64_t max_batch_size = 256;       // sequences per iteration
  int64_t max_batched_tokens = 8192;  // tokens computed per iteration
  int64_t watermark_blocks = 0;       // blocks kept free when admitting new prompts
};

// One entry of the next iteration: compute `tokens` more tokens of `seq`.
struct ScheduledSeq {
  Sequence* seq = nullptr;
  uint32_t tokens = 0;
};

// What a preemption costs on this replica, for schedulers that choose between swapping a sequence's KV to
// host memory and recomputing it. The replica fills it from its hardware so that schedulers price the two
// without seeing the perf model. Left empty (no host link, no prefill estimate), swapping is impossible.
struct PreemptionCosts {
  double kv_bytes_per_token = 0;     // the whole replica's cache (all tensor-parallel ranks)
  double host_link_bytes_per_s = 0;  // host<->GPU, one direction, all ranks' links together; 0: cannot swap
  std::function<double(int64_t tokens)> prefill_s;  // the perf model's time for a prefill of `tokens` alone

  bool can_swap() const { return host_link_bytes_per_s > 0 && kv_bytes_per_token > 0; }
  // One direction (out, or back in) for `tokens` cached tokens.
  double SwapSeconds(int64_t tokens) const {
    return kv_bytes_per_token * static_cast<double>(tokens) / host_link_bytes_per_s;
  }
};

struct ReplicaState {
  std::deque<Sequence*> waiting;   // arrived, not running (new, preempted or swapped out), in priority order
  std::vector<Sequence*> running;  // holding KV blocks, in priority order
  KvBlockPool kv;
  SchedulerLimits limits;
  int64_t preemptions = 0;         // by recompute and by swap
  int64_t swaps = 0;               // of those, by swap to host memory
  double now_s = 0;                // simulated time at which the iteration starts
  PreemptionCosts costs;           // set by the replica
  double swapped_bytes = 0;        // KV of swapped-out sequences, in host memory now
  // Set by the scheduler during Schedule, reset by the replica before each call:
  double swap_s = 0;               // PCIe time of the swaps this batch makes (out and in); the iteration waits for it
  // With an empty batch: wake the replica at this date even if nothing arrives (a batch that waits to
  // fill); -1 (or not after now_s): wait for an arrival only.
  double wake_at_s = -1;
};

}  // namespace gpufleet
