// What a router sees of the fleet when a request arrives: every replica's load, read in place, plus the
// orderings it asked for (Router::Needs) kept up to date as loads change.
//
// A router that wants "the replica with the least outstanding tokens" gets it in O(1) from an indexed
// min-heap that the engine repairs in O(log R) whenever a replica's load changes (a hand-over, the end of
// an iteration), instead of copying and scanning every replica on every arrival: with 10,000 replicas the
// scan was the whole cost of a run. Ties go to the lowest replica index, exactly as a first-minimum scan
// picks, so a router's decisions do not depend on which path computed them. An ordering a router did not
// declare is still answered, by a scan (O(R)); `loads()` is there for rules no ordering expresses.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gpufleet {

// What a router may know about a replica when a request arrives.
struct ReplicaLoad {
  int replica = 0;                   // global replica index
  int group = 0;                     // deployment group index
  int64_t outstanding_requests = 0;  // routed to it and not finished
  int64_t outstanding_tokens = 0;    // unprocessed prompt tokens + ungenerated output tokens of those
  int64_t kv_free_blocks = 0;        // at the end of its last iteration
  int64_t kv_total_blocks = 0;
  int64_t queued_prompt_tokens = 0;  // prompt tokens of its requests that have not had their first token yet
  double busy_until_s = 0;           // when its iteration in progress ends (earlier than now: idle)
};

// What a policy may know of a replica's hardware, fixed for the run: the perf model's prices of its work
// (sim/engine/replica_profile.h fits them) and the price of its GPUs. Routers use it to weigh replicas by
// capacity and to predict a request's time to first token; it is a model, not a promise.
struct ReplicaProfile {
  std::string gpu;                 // GPU type
  double prefill_fixed_s = 0;      // one prefill iteration of n tokens takes fixed + n x per_token
  double prefill_per_token_s = 0;
  double decode_per_token_s = 0;   // a decode step's time per sequence at a typical batch
  int64_t max_batched_tokens = 1;  // tokens per iteration
  int64_t kv_block_tokens = 16;
  double usd_per_s = 0;            // the replica's GPUs

  // Seconds to prefill `tokens` prompt tokens, in iterations of at most max_batched_tokens.
  double PrefillSeconds(int64_t tokens) const {
    if (tokens <= 0) return 0;
    const int64_t iterations = (tokens + max_batched_tokens - 1) / max_batched_tokens;
    return static_cast<double>(iterations) * prefill_fixed_s + static_cast<double>(tokens) * prefill_per_token_s;
  }
  // A replica's backlog in seconds of its own work: the capacity-weighted load.
  double BacklogSeconds(const ReplicaLoad& load) const {
    return PrefillSeconds(load.queued_prompt_tokens) +
           static_cast<double>(load.outstanding_tokens - load.queued_prompt_tokens) * decode_per_token_s;
  }
  // How long after `now_s` a request of `prompt_tokens` sent now would see its first token: the rest of
  // the iteration in progress, then FCFS behind the queued prompts, each iteration also carrying a decode
  // step of the requests in flight (chunked prefill and Orca mix them; for prefill-first schedulers this
  // over-counts, erring towards a later estimate).
  double PredictTtft(const ReplicaLoad& load, int64_t prompt_tokens, double now_s) const {
    const int64_t tokens = load.queued_prompt_tokens + prompt_tokens;
    const int64_t iterations = (tokens + max_batched_tokens - 1) / max_batched_tokens;
    const double in_progress = load.busy_until_s > now_s ? load.busy_until_s - now_s : 0.0;
    return in_progress + PrefillSeconds(tokens) +
           static_cast<double>(iterations * load.outstanding_requests) * decode_per_token_s;
  }
  // The gap between two tokens of the replica's running requests while a request of `prompt_tokens` sent
  // now is prefilled: an iteration with a full chunk of the queued prompts (at most max_batched_tokens)
  // and a decode step of every request in flight, this one included.
  double PredictTbt(const ReplicaLoad& load, int64_t prompt_tokens) const {
    const int64_t chunk = std::min<int64_t>(load.queued_prompt_tokens + prompt_tokens, max_batched_tokens);
    return PrefillSeconds(chunk) + static_cast<double>(load.outstanding_requests + 1) * decode_per_token_s;
  }
};

// The orderings a router reads on every arrival; the engine maintains only these.
struct RouterNeeds {
  bool least_tokens = false;    // LeastOutstandingTokens()
  bool least_requests = false;  // LeastOutstandingRequests()
  bool per_group = false;       // ... also within each deployment group (a group argument >= 0)
};

class FleetView {
 public:
  static constexpr int kFleet = -1;  // "every replica" where a group index is asked for

  // `loads[i].replica` must be i and every group in [0, num_groups).
  FleetView(std::vector<ReplicaLoad> loads, int num_groups, RouterNeeds needs);
  ~FleetView();
  FleetView(const FleetView&) = delete;
  FleetView& operator=(const FleetView&) = delete;

  size_t size() const { return loads_.size(); }
  int num_groups() const { return static_cast<int>(members_.size()); }
  const ReplicaLoad& load(size_t replica) const { return loads_[replica]; }
  // The replica's hardware figures; a default profile until the engine sets them (SetProfiles).
  const ReplicaProfile& profile(size_t replica) const {
    return replica < profiles_.size() ? profiles_[replica] : kNoProfile;
  }
  void SetProfiles(std::vector<ReplicaProfile> profiles) { profiles_ = std::move(profiles); }
  std::span<const ReplicaLoad> loads() const { return loads_; }
  // The replicas of one deployment group, in index order.
  std::span<const int> group_replicas(int group) const { return members_[static_cast<size_t>(group)]; }

  // The replica with the fewest outstanding tokens (requests) among all, or one group's (lowest index on
  // ties); -1 when the group has none.
  int LeastOutstandingTokens(int group = kFleet) const;
  int LeastOutstandingRequests(int group = kFleet) const;

  // Engine side: replica `load.replica`'s load is now `load`; repairs the orderings that hold it.
  void Update(const ReplicaLoad& load);

 private:
  class MinIndex;
  int Least(int64_t ReplicaLoad::*figure, const std::vector<std::unique_ptr<MinIndex>>& index, int group) const;

  static inline const ReplicaProfile kNoProfile{};
  std::vector<ReplicaLoad> loads_;
  std::vector<ReplicaProfile> profiles_;
  std::vector<std::vector<int>> members_;  // per group
  // Per figure: [0] over the fleet, [1 + g] over group g; empty when not needed.
  std::vector<std::unique_ptr<MinIndex>> by_tokens_, by_requests_;
};

}  // namespace gpufleet
