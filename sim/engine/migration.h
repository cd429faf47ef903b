// Live migration rounds (policies/migration): asks the policy for moves every interval while requests are
// in the fleet, and has each source replica send one running request's KV cache to its destination.
//
// A round is a calendar event (Calendar::kMigrator). It is booked interval_s after the previous one while
// any replica has requests in flight, and re-armed by the next arrival after the fleet went idle, so an
// idle fleet books nothing and the run still ends when its work does. The cache moves over the fabric
// with the disaggregation transfers (Disaggregation::Migrate: one transport, one set of waits in the
// calendar loop); a source picks the request once its iteration in progress has ended
// (Replica::RequestMigration).
#pragma once

#include <memory>
#include <vector>

#include "policies/migration/migration_policy.h"

namespace gpufleet {

class Replica;
class FleetView;
struct RunContext;

class Migrator {
 public:
  // `fleet` is the router's view of the replicas `entry` (global indices, in view order).
  Migrator(std::unique_ptr<MigrationPolicy> policy, const FleetView* fleet, std::vector<int> entry,
           std::vector<std::unique_ptr<Replica>>* replicas, RunContext* ctx);
  // Books a round interval_s from now unless one is booked (called for every arrival).
  void Arm();
  // The calendar's call: plans and orders this round's moves, then books the next round while work remains.
  void Round();

 private:
  std::unique_ptr<MigrationPolicy> policy_;
  const FleetView* fleet_;
  std::vector<int> entry_;
  std::vector<std::unique_ptr<Replica>>* replicas_;
  RunContext* ctx_;
  bool armed_ = false;
  std::vector<MigrationMove> moves_;
};

}  // namespace gpufleet
