// Sweep files: expansion of lists, ranges, zipped groups and seeds into points, point keys, and the located
// errors a bad sweep file gets (orchestration/sweep_spec.h, sweep_plan.h).
#include <gtest/gtest.h>

#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_report.h"
#include "orchestration/sweep_spec.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr const char* kBase = R"(seed: 5
horizon_s: 5
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 1, scheduler: sarathi, max_batched_tokens: 2048}]
workload:
  synthetic:
    rate_rps: 2
    prompt_tokens: {dist: fixed, value: 100}
    output_tokens: {dist: fixed, value: 10}
)";

std::vector<std::string> Values(const std::vector<std::vector<ScenarioOverride>>& configs, size_t axis) {
  std::vector<std::string> out;
  for (const auto& c : configs) out.push_back(c[axis].value);
  return out;
}

TEST(SweepSpec, GridFirstAxisVariesSlowest) {
  auto spec = ParseSweepSpec(R"(base: s.yaml
axes:
  deployment[0].replicas: [1, 2, 3]
  router: [round_robin, least_outstanding_tokens]
)", "sw.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "sw");
  const auto configs = ExpandConfigurations(*spec);
  ASSERT_EQ(configs.size(), 6u);
  EXPECT_EQ(Values(configs, 0), (std::vector<std::string>{"1", "1", "2", "2", "3", "3"}));
  EXPECT_EQ(configs[1][1].path, "router");
  EXPECT_EQ(configs[1][1].value, "least_outstanding_tokens");
}

TEST(SweepSpec, Ranges) {
  auto spec = ParseSweepSpec(R"(base: s.yaml
axes:
  deployment[0].max_batched_tokens: {from: 256, to: 2048, step: 256}
  workload.synthetic.rate_rps: {from: 0.5, to: 1.5, step: 0.25}
  deployment[0].replicas: {from: 1, to: 16, factor: 2}
)", "sw.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->axes.size(), 3u);
  std::vector<std::string> mbt, rate, reps;
  for (const auto& s : spec->axes[0].values) mbt.push_back(s[0].value);
  for (const auto& s : spec->axes[1].values) rate.push_back(s[0].value);
  for (const auto& s : spec->axes[2].values) reps.push_back(s[0].value);
  EXPECT_EQ(mbt, (std::vector<std::string>{"256", "512", "768", "1024", "1280", "1536", "1792", "2048"}));
  EXPECT_EQ(rate, (std::vector<std::string>{"0.5", "0.75", "1", "1.25", "1.5"}));
  EXPECT_EQ(reps, (std::vector<std::string>{"1", "2", "4", "8", "16"}));
  EXPECT_EQ(ExpandConfigurations(*spec).size(), 8u * 5 * 5);
}

TEST(SweepSpec, ZipGroupsVaryTogetherInFileOrder) {
  auto spec = ParseSweepSpec(R"(base: s.yaml
zip:
  - deployment[0].gpu: [H100-SXM-80GB, A100-SXM-80GB, L40S]
    deployment[0].tensor_parallel: [1, 2, 4]
axes:
  deployment[0].replicas: [1, 2]
)", "sw.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const auto configs = ExpandConfigurations(*spec);
  ASSERT_EQ(configs.size(), 6u);
  EXPECT_EQ(Values(configs, 0), (std::vector<std::string>{"H100-SXM-80GB", "H100-SXM-80GB", "A100-SXM-80GB",
                                                          "A100-SXM-80GB", "L40S", "L40S"}));
  EXPECT_EQ(Values(configs, 1), (std::vector<std::string>{"1", "1", "2", "2", "4", "4"}));
  EXPECT_EQ(Values(configs, 2), (std::vector<std::string>{"1", "2", "1", "2", "1", "2"}));
}

TEST(SweepPlan, SeedsReplicationsAndKeys) {
  const std::string dir = TempDir();
  WriteFile(dir, "s.yaml", kBase);
  auto seeds = ParseSweepSpec("base: s.yaml\naxes:\n  deployment[0].replicas: [1, 2]\nseeds: [1, 2, 3]\n", dir + "/a.yaml");
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  auto plan = PlanSweep(*seeds);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->points.size(), 6u);
  EXPECT_EQ(plan->points[2].seed, 3);
  EXPECT_EQ(plan->points[3].config, 1);
  std::set<std::string> keys;
  for (const auto& p : plan->points) keys.insert(p.key);
  EXPECT_EQ(keys.size(), 6u);

  // replications start from the scenario's own seed (5); the same point gets the same key.
  auto reps = ParseSweepSpec("base: s.yaml\naxes:\n  deployment[0].replicas: [1, 2]\nreplications: 2\n", dir + "/b.yaml");
  ASSERT_TRUE(reps.ok()) << reps.status();
  auto plan2 = PlanSweep(*reps);
  ASSERT_TRUE(plan2.ok()) << plan2.status();
  ASSERT_EQ(plan2->points.size(), 4u);
  EXPECT_EQ(plan2->points[0].seed, 5);
  EXPECT_EQ(plan2->points[1].seed, 6);
  EXPECT_NE(plan->sweep_id, plan2->sweep_id);
  auto again = PlanSweep(*reps);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sweep_id, plan2->sweep_id);
  EXPECT_EQ(again->points[3].key, plan2->points[3].key);
  EXPECT_EQ(OverridesJson(plan2->points[3].overrides), R"({"deployment[0].replicas":2})");
}

TEST(SweepPlan, OverrideTheBaseCannotTakeIsLocatedInTheSweepFile) {
  const std::string dir = TempDir();
  WriteFile(dir, "s.yaml", kBase);
  auto spec = ParseSweepSpec("base: s.yaml\naxes:\n  deployment[3].replicas: [1, 2]\n", dir + "/c.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto plan = PlanSweep(*spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("c.yaml:3:28"), std::string::npos) << plan.status();
}

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  auto spec = ParseSweepSpec(text, "bad.yaml");
  ASSERT_FALSE(spec.ok()) << text;
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(where), std::string::npos) << spec.status();
  EXPECT_NE(spec.status().message().find(what), std::string::npos) << spec.status();
}

TEST(SweepSpec, LocatedErrors) {
  ExpectError("base: s.yaml\naxis: {router: [a]}\n", "bad.yaml:2:1", "axes");  // did you mean
  ExpectError("axes: {router: [a]}\n", "bad.yaml:1:1", "base");
  ExpectError("base: s.yaml\naxes:\n  router: []\n", "bad.yaml:3:11", "no values");
  ExpectError("base: s.yaml\naxes:\n  x: {from: 1, to: 4, step: 1, factor: 2}\n", "bad.yaml:3:6", "exactly one of");
  ExpectError("base: s.yaml\naxes:\n  x: {from: 4, to: 1, step: 1}\n", "bad.yaml:3:", "to");
  ExpectError("base: s.yaml\naxes:\n  x: {from: 1, to: 4, step: 0}\n", "bad.yaml:3:", "step");
  ExpectError("base: s.yaml\naxes:\n  x: {from: 0, to: 4, factor: 2}\n", "bad.yaml:3:", "from");
  ExpectError("base: s.yaml\nzip:\n  - {a: [1, 2], b: [1, 2, 3]}\n", "bad.yaml:3:17", "zipped path b has 3 values");
  ExpectError("base: s.yaml\naxes: {seed: [1, 2]}\n", "bad.yaml:2:8", "seeds:");
  ExpectError("base: s.yaml\nset: {router: a}\naxes:\n  router: [b]\n", "bad.yaml:4:3", "set twice");
  ExpectError("base: s.yaml\nseeds: [1, 1]\n", "bad.yaml:2:12", "repeated");
  ExpectError("base: s.yaml\nseeds: [1]\nreplications: 2\n", "bad.yaml:3:1", "both");
  ExpectError("base: s.yaml\naxes:\n  a: {from: 1, to: 1000, step: 1}\n  b: {from: 1, to: 1000, step: 1}\n",
              "bad.yaml:1:1", "1000000 points");
}

TEST(SweepReport, StudentT) {
  EXPECT_NEAR(StudentT975(1), 12.706, 1e-3);
  EXPECT_NEAR(StudentT975(2), 4.303, 1e-3);
  EXPECT_NEAR(StudentT975(30), 2.042, 1e-3);
  EXPECT_NEAR(StudentT975(60), 2.000, 1e-3);
  EXPECT_NEAR(StudentT975(120), 1.980, 1e-3);
}

}  // namespace
}  // namespace gpufleet
