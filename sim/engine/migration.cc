// Live migration rounds (see migration.h).
#include "sim/engine/migration.h"

#include "sim/engine/calendar.h"
#include "sim/engine/replica.h"

namespace gpufleet {

Migrator::Migrator(std::unique_ptr<MigrationPolicy> policy, const FleetView* fleet, std::vector<int> entry,
                   std::vector<std::unique_ptr<Replica>>* replicas, RunContext* ctx)
    : policy_(std::move(policy)), fleet_(fleet), entry_(std::move(entry)), replicas_(replicas), ctx_(ctx) {}

void Migrator::Arm() {
  if (armed_) return;
  armed_ = true;
  ctx_->calendar->Schedule(ctx_->now_s + policy_->interval_s(), Calendar::kMigrator);
}

void Migrator::Round() {
  armed_ = false;
  moves_.clear();
  policy_->Plan(*fleet_, &moves_);
  for (const MigrationMove& m : moves_) {
    if (m.from == m.to || m.from >= entry_.size() || m.to >= entry_.size()) continue;
    (*replicas_)[static_cast<size_t>(entry_[m.from])]->RequestMigration(entry_[m.to]);
  }
  for (const ReplicaLoad& l : fleet_->loads()) {
    if (l.outstanding_requests > 0) {
      Arm();
      break;
    }
  }
}

}  // namespace gpufleet
