// The fleet view's incrementally kept orderings answer exactly what a scan of every replica answers, and
// every shipped router decides the same from them as from a scan (property tests on random loads).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "policies/routing/fleet_view.h"
#include "policies/routing/router.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

// First minimum of a figure over the replicas of `group` (all when group < 0): the reference answer.
int ScanLeast(const std::vector<ReplicaLoad>& loads, int64_t ReplicaLoad::*figure, int group) {
  int best = -1;
  for (size_t i = 0; i < loads.size(); ++i) {
    if (group >= 0 && loads[i].group != group) continue;
    if (best < 0 || loads[i].*figure < loads[static_cast<size_t>(best)].*figure) best = static_cast<int>(i);
  }
  return best;
}

std::vector<ReplicaLoad> RandomFleet(std::mt19937_64& rng, size_t replicas, int groups, int64_t spread) {
  std::vector<ReplicaLoad> loads(replicas);
  std::uniform_int_distribution<int> group(0, groups - 1);
  std::uniform_int_distribution<int64_t> figure(0, spread);
  for (size_t i = 0; i < replicas; ++i) {
    loads[i].replica = static_cast<int>(i);
    loads[i].group = group(rng);
    loads[i].outstanding_tokens = figure(rng);
    loads[i].outstanding_requests = figure(rng);
    loads[i].kv_total_blocks = 1000;
    loads[i].kv_free_blocks = 1000 - figure(rng) % 1000;
  }
  return loads;
}

// A random step of a run: a hand-over (both figures grow) or an iteration (tokens fall, requests may finish).
void RandomChange(std::mt19937_64& rng, ReplicaLoad* l, int64_t spread) {
  std::uniform_int_distribution<int64_t> d(0, spread / 4 + 1);
  if (rng() % 2 == 0) {
    l->outstanding_requests += 1;
    l->outstanding_tokens += d(rng);
  } else {
    l->outstanding_tokens = std::max<int64_t>(0, l->outstanding_tokens - d(rng));
    if (l->outstanding_requests > 0 && rng() % 3 == 0) --l->outstanding_requests;
  }
}

TEST(FleetView, OrderingsMatchAScanUnderRandomUpdates) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t replicas = 1 + rng() % 300;
    const int groups = 1 + static_cast<int>(rng() % 5);  // some groups may end up empty
    const int64_t spread = trial % 2 == 0 ? 5 : 100000;  // few distinct values (many ties) or many
    std::vector<ReplicaLoad> loads = RandomFleet(rng, replicas, groups, spread);
    FleetView kept(loads, groups, {.least_tokens = true, .least_requests = true, .per_group = true});
    for (int step = 0; step < 400; ++step) {
      ReplicaLoad& l = loads[rng() % replicas];
      RandomChange(rng, &l, spread);
      kept.Update(l);
      FleetView scanned(loads, groups, {});  // nothing declared: answered by a scan
      for (int g = -1; g < groups; ++g) {
        const int want_t = ScanLeast(loads, &ReplicaLoad::outstanding_tokens, g);
        const int want_r = ScanLeast(loads, &ReplicaLoad::outstanding_requests, g);
        ASSERT_EQ(kept.LeastOutstandingTokens(g), want_t) << "trial " << trial << " step " << step << " group " << g;
        ASSERT_EQ(kept.LeastOutstandingRequests(g), want_r) << "trial " << trial << " step " << step << " group " << g;
        ASSERT_EQ(scanned.LeastOutstandingTokens(g), want_t);
        ASSERT_EQ(scanned.LeastOutstandingRequests(g), want_r);
      }
    }
    for (int g = 0; g < groups; ++g) {
      for (int r : kept.group_replicas(g)) EXPECT_EQ(kept.load(static_cast<size_t>(r)).group, g);
    }
  }
}

TEST(FleetView, EmptyGroupHasNoLeast) {
  std::vector<ReplicaLoad> loads(2);
  loads[1].replica = 1;
  FleetView v(loads, 2, {.least_tokens = true, .per_group = true});
  EXPECT_EQ(v.LeastOutstandingTokens(1), -1);
  EXPECT_EQ(v.LeastOutstandingTokens(0), 0);  // tie: lowest index
  EXPECT_EQ(v.group_replicas(0).size(), 2u);
}

std::unique_ptr<Router> MakeRouter(const std::string& type, int groups) {
  if (type != "size_buckets") return testing::MakePolicy<Router>(type);
  std::string shares;
  for (int g = 0; g < groups; ++g) {
    shares += "g" + std::to_string(g) + ": [[" + std::to_string(g % 2) + ", 1], [" + std::to_string(g + 1) + ", 0]], ";
  }
  PolicyConfig cfg{"size_buckets", "r.yaml",
                   YAML::Load("{type: size_buckets, prompt_tokens: [500], output_tokens: [100], shares: {" + shares + "}}"),
                   "router"};
  auto r = RouterRegistry::Get().Create(cfg);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return nullptr;
  std::vector<std::string> names;
  for (int g = 0; g < groups; ++g) names.push_back("g" + std::to_string(g));
  EXPECT_TRUE((*r)->Bind(PolicyBinding{names}).ok());
  return std::move(*r);
}

// Each shipped router, fed the same arrivals, decides the same from the kept orderings as from a scan.
TEST(FleetView, EveryRouterDecidesAsWithAScan) {
  for (const auto& [name, entry] : RouterRegistry::Get().entries()) {
    std::mt19937_64 rng(777);
    for (int trial = 0; trial < 10; ++trial) {
      const size_t replicas = 1 + rng() % 200;
      const int groups = 1 + static_cast<int>(rng() % 4);
      const int64_t spread = trial % 2 == 0 ? 3 : 50000;
      std::vector<ReplicaLoad> loads = RandomFleet(rng, replicas, groups, spread);
      std::unique_ptr<Router> fast = MakeRouter(entry.name, groups), slow = MakeRouter(entry.name, groups);
      ASSERT_NE(fast, nullptr);
      ASSERT_NE(slow, nullptr);
      FleetView kept(loads, groups, fast->Needs());
      for (int step = 0; step < 300; ++step) {
        TraceRequest req;
        req.id = static_cast<uint64_t>(step);
        req.prompt_tokens = static_cast<uint32_t>(1 + rng() % 1000);
        req.output_tokens = static_cast<uint32_t>(1 + rng() % 200);
        FleetView scanned(loads, groups, {});
        const size_t pick = fast->Route(req, kept);
        ASSERT_EQ(pick, slow->Route(req, scanned)) << entry.name << " trial " << trial << " step " << step;
        ASSERT_LT(pick, replicas);
        // The pick takes the request; some other replica makes progress.
        loads[pick].outstanding_requests += 1;
        loads[pick].outstanding_tokens += req.prompt_tokens + req.output_tokens;
        kept.Update(loads[pick]);
        ReplicaLoad& other = loads[rng() % replicas];
        RandomChange(rng, &other, spread);
        kept.Update(other);
      }
    }
  }
}

}  // namespace
}  // namespace gpufleet
