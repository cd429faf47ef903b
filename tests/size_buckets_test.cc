// The size_buckets router sends each request size bucket to its groups in proportion to their weights,
// falls back to least outstanding tokens, refuses malformed parameters with their location, and runs
// end to end, deterministically.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/routing/router.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

absl::StatusOr<std::unique_ptr<Router>> Make(const std::string& yaml) {
  PolicyConfig cfg{"size_buckets", "r.yaml", YAML::Load(yaml), "router"};
  return RouterRegistry::Get().Create(cfg);
}

std::unique_ptr<Router> MakeBound(const std::string& yaml, const std::vector<std::string>& groups) {
  auto r = Make(yaml);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return nullptr;
  absl::Status b = (*r)->Bind(PolicyBinding{groups});
  EXPECT_TRUE(b.ok()) << b;
  return std::move(*r);
}

// Replicas 0, 1 in group 0 ("a"), 2, 3 in group 1 ("b"), 4 in group 2 ("c").
std::vector<ReplicaLoad> Fleet() {
  std::vector<ReplicaLoad> l(5);
  const int group[] = {0, 0, 1, 1, 2};
  for (int i = 0; i < 5; ++i) {
    l[i].replica = i;
    l[i].group = group[i];
  }
  return l;
}

TraceRequest Req(uint32_t prompt, uint32_t output) {
  TraceRequest r;
  r.prompt_tokens = prompt;
  r.output_tokens = output;
  return r;
}

TEST(SizeBuckets, ProportionsFollowTheWeights) {
  auto r = MakeBound("{type: size_buckets, shares: {a: [[1]], b: [[3]]}}", {"a", "b", "c"});
  ASSERT_NE(r, nullptr);
  auto loads = Fleet();
  int per_group[3] = {0, 0, 0};
  std::vector<size_t> first;
  for (int i = 0; i < 400; ++i) {
    const size_t pick = testing::RouteOn(*r, Req(100, 10), loads);
    ++per_group[loads[pick].group];
    if (i < 8) first.push_back(pick);
  }
  EXPECT_EQ(per_group[0], 100);
  EXPECT_EQ(per_group[1], 300);
  EXPECT_EQ(per_group[2], 0);
  // Smooth WRR interleaves (b, a, b, b per cycle of 4; a tie goes to the lower group index) rather than
  // sending runs; all loads are equal, so each group's lowest-index replica takes them.
  EXPECT_EQ(first, (std::vector<size_t>{2, 0, 2, 2, 2, 0, 2, 2}));
}

TEST(SizeBuckets, BucketsGoToTheirGroupsAndLeastTokensWithin) {
  const std::string yaml = R"({type: size_buckets, prompt_tokens: [512, 2048], output_tokens: [256],
    shares: {a: [[1, 0], [0, 1], [0, 0]], b: [[0, 1], [1, 0], [0, 0]], c: [[0, 0], [0, 0], [1, 1]]}})";
  auto r = MakeBound(yaml, {"a", "b", "c"});
  ASSERT_NE(r, nullptr);
  auto loads = Fleet();
  loads[0].outstanding_tokens = 500;
  loads[1].outstanding_tokens = 100;
  loads[2].outstanding_tokens = 50;
  loads[3].outstanding_tokens = 50;
  EXPECT_EQ(testing::RouteOn(*r, Req(511, 255), loads), 1u);   // [0,512) x [0,256) -> a; replica 1 has fewer tokens
  EXPECT_EQ(testing::RouteOn(*r, Req(511, 256), loads), 2u);   // [0,512) x [256,inf) -> b; tie: lowest index
  EXPECT_EQ(testing::RouteOn(*r, Req(512, 0), loads), 2u);     // [512,2048) x [0,256) -> b
  EXPECT_EQ(testing::RouteOn(*r, Req(2047, 300), loads), 1u);  // [512,2048) x [256,inf) -> a
  EXPECT_EQ(testing::RouteOn(*r, Req(2048, 1), loads), 4u);    // [2048,inf) -> c
  EXPECT_EQ(testing::RouteOn(*r, Req(100000, 5000), loads), 4u);
}

TEST(SizeBuckets, FallsBackToLeastOutstandingTokens) {
  // Bucket [512, inf) weighs 0 everywhere; group c is absent from shares.
  auto r = MakeBound("{type: size_buckets, prompt_tokens: [512], shares: {a: [1, 0], b: [[1], [0]]}}", {"a", "b", "c"});
  ASSERT_NE(r, nullptr);
  auto loads = Fleet();
  for (int i = 0; i < 5; ++i) loads[i].outstanding_tokens = 100;
  loads[4].outstanding_tokens = 10;
  EXPECT_EQ(testing::RouteOn(*r, Req(600, 1), loads), 4u);
  loads[3].outstanding_tokens = 10;
  EXPECT_EQ(testing::RouteOn(*r, Req(600, 1), loads), 3u);  // tie: lowest index
  EXPECT_LT(loads[testing::RouteOn(*r, Req(10, 1), loads)].group, 2);  // the small bucket still goes to a or b
}

void ExpectError(const absl::Status& s, const std::string& prefix) {
  ASSERT_FALSE(s.ok());
  const std::string msg(s.message());
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

TEST(SizeBuckets, MalformedParametersAreLocated) {
  ExpectError(Make("{type: size_buckets, prompt_tokens: [512], shares: {a: [[1], [0], [1]]}}").status(),
              "r.yaml:1:56: router.shares.a has 3 rows");
  ExpectError(Make("{type: size_buckets, output_tokens: [9], shares: {a: [[1, 2, 3]]}}").status(),
              "r.yaml:1:55: router.shares.a[0] has 3 weights");
  ExpectError(Make("{type: size_buckets, prompt_tokens: [5], output_tokens: [9], shares: {a: [1, 2, 3, 4]}}").status(),
              "r.yaml:1:74: router.shares.a is a flat list of 4 weights");
  ExpectError(Make("{type: size_buckets, shares: {a: [[-1]]}}").status(), "r.yaml:1:36: router.shares.a[0][0]");
  ExpectError(Make("{type: size_buckets, prompt_tokens: [512, 512], shares: {a: [1, 1, 1]}}").status(),
              "r.yaml:1:43: router.prompt_tokens[1] is 512, not above the edge before it");
  ExpectError(Make("{type: size_buckets, prompt_tokens: [0], shares: {a: [1, 1]}}").status(),
              "r.yaml:1:38: router.prompt_tokens[0]");
  ExpectError(Make("{type: size_buckets}").status(), "r.yaml:1:1: router of type size_buckets has no 'shares'");
  ExpectError(Make("{type: size_buckets, shares: {a: [[1]]}, bucket: 3}").status(), "r.yaml:1:42: unknown key 'bucket' in router");
}

TEST(SizeBuckets, UnknownGroupIsLocatedAtItsKey) {
  auto r = Make("{type: size_buckets,\n  shares: {a: [[1]], h100: [[1]]}}");
  ASSERT_TRUE(r.ok()) << r.status();
  absl::Status s = (*r)->Bind(PolicyBinding{{"a", "h100-group"}});
  ExpectError(s, "r.yaml:2:22: router.shares: 'h100' is not a deployment group (did you mean 'h100-group'?)");
  EXPECT_NE(std::string(s.message()).find("a, h100-group"), std::string::npos) << s;
}

constexpr const char* kTwoGroups = R"(seed: 7
horizon_s: 30
cluster: {nodes: [{type: DGX-H100, count: 1}, {type: DGX-A100, count: 1}]}
model: Llama-2-7B
deployment:
  - {name: h100-group, gpu: H100-SXM-80GB, replicas: 2}
  - {name: a100-group, gpu: A100-SXM-80GB, replicas: 2}
router:
  type: size_buckets
  prompt_tokens: [512]
  output_tokens: [128]
  shares:
    h100-group: [[1, 0], [0.25, 1]]
    a100-group: [[0, 1], [0.75, 0]]
workload:
  synthetic:
    rate_rps: 8
    prompt_tokens: {dist: lognormal, median: 500, sigma: 0.8, max: 3000}
    output_tokens: {dist: lognormal, median: 128, sigma: 0.6, max: 600}
)";

TEST(SizeBuckets, UnknownGroupInAScenarioIsALoadError) {
  std::string text = kTwoGroups;
  text.replace(text.find("    a100-group: [[0"), 15, "    a100-grup:");
  auto s = LoadScenarioFromString(text, "s.yaml", ".", RealCatalog());
  ExpectError(s.status(), "s.yaml:14:5: router.shares: 'a100-grup' is not a deployment group (did you mean 'a100-group'?)");
}

TEST(SizeBuckets, EndToEndIsDeterministic) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "s.yaml", kTwoGroups);
  auto a = testing::RunGpufleet("simulate " + path + " --json");
  auto b = testing::RunGpufleet("simulate " + path + " --json");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  nlohmann::json ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
  EXPECT_GT(ja["requests_completed"].get<int64_t>(), 100) << a.output;
  ja.erase("wall_s");
  jb.erase("wall_s");
  EXPECT_EQ(ja.dump(), jb.dump());
  int64_t per_group[2] = {0, 0};
  for (const auto& rep : ja["replicas"]) per_group[rep["group"] == "h100-group" ? 0 : 1] += rep["requests"].get<int64_t>();
  EXPECT_GT(per_group[0], 0) << a.output;
  EXPECT_GT(per_group[1], 0) << a.output;
}

TEST(SizeBuckets, EndToEndGroupsGetTheirShares) {
  // Rows 0..9 have prompts 100..1000 (bucket 0: all to h100), rows 10..19 1100..2000 (bucket 1: 1:3).
  const std::string dir = testing::TempDir();
  std::string trace = "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 20; ++i) trace += std::to_string(i) + "," + std::to_string(100 * (i + 1)) + ",8\n";
  testing::WriteFile(dir, "t.csv", trace);
  const std::string path = testing::WriteFile(dir, "s.yaml", R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 1}, {type: DGX-A100, count: 1}]}
model: Llama-2-7B
deployment:
  - {name: h100-group, gpu: H100-SXM-80GB, replicas: 2}
  - {name: a100-group, gpu: A100-SXM-80GB, replicas: 1}
router: {type: size_buckets, prompt_tokens: [1050], shares: {h100-group: [1, 1], a100-group: [0, 3]}}
workload: {trace: {path: t.csv, format: native}}
)");
  auto r = testing::RunGpufleet("simulate " + path + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  int64_t per_group[2] = {0, 0};
  for (const auto& rep : j["replicas"]) per_group[rep["group"] == "h100-group" ? 0 : 1] += rep["requests"].get<int64_t>();
  // Bucket 1's ten requests go a100, h100, a100, a100 per cycle of four: 2 full cycles + 2 = 7 to a100.
  EXPECT_EQ(per_group[0], 13) << r.output;
  EXPECT_EQ(per_group[1], 7) << r.output;
}

}  // namespace
}  // namespace gpufleet
