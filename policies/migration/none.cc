// No migration (the default): requests stay on the replica the router chose.
#include "policies/migration/migration_policy.h"

namespace gpufleet {
namespace {

class NoMigration final : public MigrationPolicy {
 public:
  double interval_s() const override { return 0; }
  void Plan(const FleetView&, std::vector<MigrationMove>*) override {}
};

GF_REGISTER_POLICY(MigrationPolicy, "none", "requests stay where they were routed",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<MigrationPolicy>> {
                     return std::make_unique<NoMigration>();
                   });

}  // namespace
}  // namespace gpufleet
