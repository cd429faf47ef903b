// Live migration (policies/migration, sim/engine/migration.h): the load-balancing policy pairs the least
// and most KV-free replicas; moves carry the request's KV bytes over the fabric, every request still
// completes exactly once, and the stall shows in the moved request's inter-token gap.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "policies/migration/migration_policy.h"
#include "sim/metrics/summary.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

TEST(Migration, LoadBalancePairsLeastWithMostFree) {
  PolicyConfig cfg{"load_balance", "m.yaml", YAML::Load("{type: load_balance, threshold: 0.2, max_moves: 2}"), "migration"};
  auto policy = MigrationRegistry::Get().Create(cfg);
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::vector<ReplicaLoad> loads(4);
  const int64_t free_blocks[] = {90, 10, 50, 5};
  for (int i = 0; i < 4; ++i) {
    loads[i].replica = i;
    loads[i].kv_total_blocks = 100;
    loads[i].kv_free_blocks = free_blocks[i];
    loads[i].outstanding_requests = 4;
  }
  FleetView view(loads, 1, {});
  std::vector<MigrationMove> moves;
  (*policy)->Plan(view, &moves);
  // Freeness 0.9, 0.1, 0.5, 0.05: (3 -> 0) differs by 0.85, (1 -> 2) by 0.4; both beyond 0.2.
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[0].from, 3u);
  EXPECT_EQ(moves[0].to, 0u);
  EXPECT_EQ(moves[1].from, 1u);
  EXPECT_EQ(moves[1].to, 2u);
  // A source with one request has nothing worth moving; a small gap is no reason to move.
  ReplicaLoad lone = view.load(3);
  lone.outstanding_requests = 1;
  view.Update(lone);
  moves.clear();
  (*policy)->Plan(view, &moves);
  // Replica 3 is skipped: 1 (0.1) goes to 0 (0.9); 2 is left with no partner.
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].from, 1u);
  EXPECT_EQ(moves[0].to, 0u);
}

const char* kImbalanced = R"(seed: 3
horizon_s: 60
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 4, scheduler: sarathi, gpu_memory_utilization: 0.3}]
router: round_robin
workload:
  synthetic:
    rate_rps: 12
    prompt_tokens: {dist: uniform, min: 500, max: 4000}
    output_tokens: {dist: lognormal, median: 200, sigma: 1.2, min: 10, max: 3000}
)";

TEST(Migration, MovesKvBytesAndEveryRequestCompletesOnce) {
  auto s = LoadScenarioFromString(absl::StrCat(kImbalanced, "migration: {type: load_balance, interval_s: 0.25, threshold: 0.2}\n"),
                                  "mig.yaml", ".", RealCatalog());
  ASSERT_TRUE(s.ok()) << s.status();
  auto r = testing::SimulateWithRows(*s, RealCatalog());
  ASSERT_TRUE(r.ok()) << r.status();
  const RunSummary moved = Summarize(*s, RealCatalog(), *r);
  std::set<uint64_t> ids;
  for (const RequestRow& row : r->rows) EXPECT_TRUE(ids.insert(row.id).second) << "request " << row.id << " twice";
  EXPECT_EQ(moved.requests_completed + moved.requests_rejected, moved.requests_arrived);  // overlength ones rejected
  ASSERT_TRUE(moved.migration.enabled);
  ASSERT_GT(moved.migration.moves, 0);
  int64_t out = 0, in = 0;
  for (const ReplicaResult& rr : r->replicas) {
    out += rr.stats.migrated_out;
    in += rr.stats.migrated_in;
  }
  EXPECT_EQ(out, moved.migration.moves);
  EXPECT_EQ(in, moved.migration.moves);
  // Each move carries its request's cached tokens x the model's KV bytes per token: a whole number of
  // tokens, more than one per move; the links the caches crossed carried those bytes.
  const double tokens = moved.migration.bytes / s->model->KvBytesPerToken();
  EXPECT_NEAR(tokens, std::round(tokens), 1e-6 * tokens);
  EXPECT_GT(tokens, moved.migration.moves);
  EXPECT_GT(moved.migration.stall.mean, 0);
  double link_bytes = 0;
  for (const LinkStats& l : r->links) link_bytes += l.bytes;
  EXPECT_GE(link_bytes, moved.migration.bytes * (1 - 1e-9));
}

TEST(Migration, NoneLeavesTheRunAsItWas) {
  auto s = LoadScenarioFromString(kImbalanced, "still.yaml", ".", RealCatalog());
  ASSERT_TRUE(s.ok()) << s.status();
  auto r = testing::SimulateWithRows(*s, RealCatalog());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->migrates);
  EXPECT_TRUE(r->links.empty());
  for (const ReplicaResult& rr : r->replicas) EXPECT_EQ(rr.stats.migrated_out + rr.stats.migrated_in, 0);
}

}  // namespace
}  // namespace gpufleet
