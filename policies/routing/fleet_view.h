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

#include <cstdint>
#include <memory>
#include <span>
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

  std::vector<ReplicaLoad> loads_;
  std::vector<std::vector<int>> members_;  // per group
  // Per figure: [0] over the fleet, [1 + g] over group g; empty when not needed.
  std::vector<std::unique_ptr<MinIndex>> by_tokens_, by_requests_;
};

}  // namespace gpufleet
