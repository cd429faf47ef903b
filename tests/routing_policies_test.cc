// The routers of issue 14 by their defining behaviour: power of two choices never takes the more loaded
// of its two draws and follows the scenario seed; KV-aware takes the most room; SLO-aware the earliest
// predicted first token; heterogeneity-aware sends more to the faster GPU type in a mixed fleet; prefix
// affinity with a prefix cache saves prefill; SLO-based shedding keeps the admitted within the target.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/admission/admission_policy.h"
#include "policies/routing/router.h"
#include "sim/metrics/summary.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::MakePolicy;
using testing::RealCatalog;

std::vector<ReplicaLoad> Loads(const std::vector<int64_t>& tokens) {
  std::vector<ReplicaLoad> loads;
  for (size_t i = 0; i < tokens.size(); ++i) {
    ReplicaLoad l;
    l.replica = static_cast<int>(i);
    l.outstanding_tokens = tokens[i];
    loads.push_back(l);
  }
  return loads;
}

TEST(PowerOfTwo, NeverPicksTheMoreLoadedOfItsTwo) {
  // Six replicas with distinct loads: the most loaded can never win a pair, the least loaded wins every
  // pair it is in (2/6 of draws), and each rank wins in proportion to the replicas above it.
  auto router = MakePolicy<Router>("power_of_two");
  ASSERT_TRUE(router->Bind(PolicyBinding{{"g"}, 7}).ok());
  const std::vector<int64_t> tokens{600, 100, 500, 300, 200, 400};
  FleetView view(Loads(tokens), 1, router->Needs());
  std::map<size_t, int> picks;
  const int n = 30000;
  for (int i = 0; i < n; ++i) ++picks[router->Route(TraceRequest{}, view)];
  EXPECT_EQ(picks.count(0), 0u) << "the most loaded replica won a pair";
  // P(rank k from the top is the lesser of two distinct draws) = 2k / (6 x 5), k = replicas above it.
  const std::map<size_t, int> above{{1, 5}, {4, 4}, {3, 3}, {5, 2}, {2, 1}};
  for (const auto& [replica, k] : above) {
    EXPECT_NEAR(static_cast<double>(picks[replica]) / n, 2.0 * k / 30.0, 0.015) << "replica " << replica;
  }
}

TEST(PowerOfTwo, DrawsFollowTheScenarioSeed) {
  FleetView view(Loads(std::vector<int64_t>(64, 0)), 1, {});
  auto draws = [&](uint64_t seed) {
    auto router = MakePolicy<Router>("power_of_two");
    EXPECT_TRUE(router->Bind(PolicyBinding{{"g"}, seed}).ok());
    std::vector<size_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(router->Route(TraceRequest{}, view));
    return out;
  };
  EXPECT_EQ(draws(3), draws(3));
  EXPECT_NE(draws(3), draws(4));
}

TEST(KvAware, TakesTheMostRoomAfterTheQueue) {
  auto router = MakePolicy<Router>("kv_aware");
  std::vector<ReplicaLoad> loads = Loads({0, 0, 0});
  loads[0].kv_free_blocks = 100;                                  // 1,600 tokens
  loads[1].kv_free_blocks = 300;                                  // 4,800, but 4,000 queued
  loads[1].queued_prompt_tokens = 4000;
  loads[2].kv_free_blocks = 200;                                  // 3,200
  EXPECT_EQ(testing::RouteOn(*router, TraceRequest{}, loads), 2u);
  loads[2].queued_prompt_tokens = 3000;
  EXPECT_EQ(testing::RouteOn(*router, TraceRequest{}, loads), 0u);
}

TEST(SloAware, TakesTheEarliestPredictedFirstToken) {
  auto router = MakePolicy<Router>("slo_aware");
  std::vector<ReplicaLoad> loads = Loads({0, 0});
  loads[0].queued_prompt_tokens = 0;      // a slow GPU, idle
  loads[1].queued_prompt_tokens = 3000;   // a fast GPU with a queue
  FleetView view(loads, 1, router->Needs());
  ReplicaProfile slow, fast;
  slow.prefill_per_token_s = 1e-3;
  fast.prefill_per_token_s = 1e-4;
  slow.max_batched_tokens = fast.max_batched_tokens = 8192;
  view.SetProfiles({slow, fast});
  TraceRequest req;
  req.prompt_tokens = 1000;
  // Slow: 1000 x 1 ms = 1 s. Fast: 4000 x 0.1 ms = 0.4 s.
  EXPECT_EQ(router->Route(req, view), 1u);
  ReplicaLoad busier = view.load(1);
  busier.queued_prompt_tokens = 20000;    // fast: 2.1 s
  view.Update(busier);
  EXPECT_EQ(router->Route(req, view), 0u);
}

// Runs `scenario` through the CLI (one SimGrid engine per process) and returns its JSON report.
nlohmann::json SimulateJson(const std::string& name, const std::string& scenario) {
  const std::string path = testing::WriteFile(testing::TempDir(), name, scenario);
  auto r = testing::RunGpufleet("simulate " + path + " --json");
  EXPECT_EQ(r.exit_code, 0) << name;
  if (r.exit_code != 0) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["requests_completed"], j["requests_arrived"].get<int64_t>() - j["requests_rejected"].get<int64_t>());
  return j;
}

// A mixed H100 + A100 fleet under the same load; returns requests served per GPU type.
std::map<std::string, int64_t> MixedFleetShares(const std::string& router) {
  const nlohmann::json j = SimulateJson(router + ".yaml", absl::StrCat(R"(seed: 4
horizon_s: 60
cluster: {nodes: [{type: DGX-H100, count: 1}, {type: DGX-A100, count: 1}]}
model: Llama-2-7B
deployment:
  - {name: h100, gpu: H100-SXM-80GB, replicas: 2, scheduler: sarathi}
  - {name: a100, gpu: A100-SXM-80GB, replicas: 2, scheduler: sarathi}
router: {type: )", router, R"(}
slos: {ttft: {target_s: 1.0}}
workload:
  synthetic:
    rate_rps: 40
    prompt_tokens: {dist: uniform, min: 200, max: 3000}
    output_tokens: {dist: uniform, min: 20, max: 300}
)"));
  std::map<std::string, int64_t> by_gpu;
  for (const auto& r : j.value("replicas", nlohmann::json::array())) by_gpu[r["gpu"]] += r["requests"].get<int64_t>();
  return by_gpu;
}

TEST(HeterogeneityAware, SendsMoreToTheFasterType) {
  const auto shares = MixedFleetShares("heterogeneity_aware");
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_GT(shares.at("H100-SXM-80GB"), 1.2 * static_cast<double>(shares.at("A100-SXM-80GB")));
  // Round robin, blind to the hardware, splits evenly.
  const auto even = MixedFleetShares("round_robin");
  ASSERT_EQ(even.size(), 2u);
  EXPECT_NEAR(static_cast<double>(even.at("H100-SXM-80GB")), static_cast<double>(even.at("A100-SXM-80GB")), 2);
}

TEST(SloAware, SendsMoreToTheFasterTypeEndToEnd) {
  const auto shares = MixedFleetShares("slo_aware");
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_GT(shares.at("H100-SXM-80GB"), shares.at("A100-SXM-80GB"));
}

nlohmann::json RunWithPrefixes(const std::string& router, double cache) {
  return SimulateJson(absl::StrCat(router, cache > 0 ? "-cache" : "", ".yaml"), absl::StrCat(R"(seed: 9
horizon_s: 60
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 4, scheduler: sarathi, prefix_cache: )", cache, R"(}]
router: {type: )", router, R"(}
workload:
  shared_prefix: {groups: 8, tokens: 1500, share: 0.9}
  synthetic:
    rate_rps: 20
    prompt_tokens: {dist: uniform, min: 1600, max: 2400}
    output_tokens: {dist: fixed, value: 64}
)"));
}

TEST(PrefixAffinity, CacheHitsSkipPrefillAndAffinityRaisesTheHitRate) {
  const nlohmann::json none = RunWithPrefixes("least_outstanding_tokens", 0);
  const nlohmann::json spread = RunWithPrefixes("round_robin", 0.1);
  const nlohmann::json affine = RunWithPrefixes("prefix_affinity", 0.1);
  EXPECT_FALSE(none.contains("prefix_cache_lookups"));
  ASSERT_TRUE(affine.contains("prefix_cache_hit_rate"));
  EXPECT_GT(affine["prefix_cache_hit_rate"].get<double>(), spread["prefix_cache_hit_rate"].get<double>());
  EXPECT_GT(affine["prefix_cache_hit_rate"].get<double>(), 0.9);
  EXPECT_GT(affine["prefix_cache_saved_tokens"].get<int64_t>(), 0);
  EXPECT_LT(affine["ttft_mean_s"].get<double>(), none["ttft_mean_s"].get<double>());
}

TEST(SloShed, KeepsTheAdmittedWithinTheTarget) {
  auto run = [](const std::string& name, const std::string& admission) {
    return SimulateJson(name, absl::StrCat(R"(seed: 5
horizon_s: 40
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 1, scheduler: sarathi}]
slos: {ttft: {target_s: 0.5}}
admission: )", admission, R"(
workload:
  synthetic:
    rate_rps: 30
    prompt_tokens: {dist: uniform, min: 1000, max: 3000}
    output_tokens: {dist: fixed, value: 32}
)"));
  };
  const nlohmann::json open = run("open.yaml", "none");
  const nlohmann::json shed = run("shed.yaml", "{type: slo_shed}");
  ASSERT_TRUE(shed.contains("rejected_by_reason"));
  EXPECT_GT(shed["rejected_by_reason"]["slo_shed"].get<int64_t>(), 0);
  EXPECT_GT(open["ttft_p99_s"].get<double>(), 2.0);  // overloaded: the queue grows without bound
  // The prediction is a model: it ignores waits for KV memory, which this overloaded replica has, so the
  // admitted p99 lands above the target, but within twice it, against four times and more without.
  EXPECT_LT(shed["ttft_p99_s"].get<double>(), 0.5 * 2);
  EXPECT_GT(shed["slo_attainment"].get<double>(), 2 * open["slo_attainment"].get<double>());
}

TEST(SloShed, WithoutATargetIsALocatedError) {
  auto s = LoadScenarioFromString(R"(seed: 5
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 1}]
admission: {type: slo_shed}
workload: {max_requests: 5, synthetic: {rate_rps: 1, prompt_tokens: {dist: fixed, value: 10}, output_tokens: {dist: fixed, value: 10}}}
)", "noslo.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("noslo.yaml:5:12: admission slo_shed has no TTFT target"), std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace gpufleet
