// Scenario validation: each class of bad input is rejected before anything runs, at file:line:col.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

// A valid base scenario; tests replace one line to break it.
const char* kBase = R"(name: t
seed: 1
horizon_s: 10
cluster:
  nodes:
    - type: DGX-H100
      count: 1
model: Llama-2-7B
deployment:
  - gpu: H100-SXM-80GB
    tensor_parallel: 1
    replicas: 2
router: round_robin
workload:
  synthetic:
    rate_rps: 1
    prompt_tokens: {dist: fixed, value: 100}
    output_tokens: {dist: fixed, value: 10}
)";

absl::StatusOr<Scenario> Load(const std::string& text) {
  return LoadScenarioFromString(text, "s.yaml", ".", RealCatalog());
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

void ExpectError(const std::string& text, const std::string& location, const std::string& words) {
  auto s = Load(text);
  ASSERT_FALSE(s.ok()) << "loaded but should not have";
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  const std::string msg(s.status().message());
  EXPECT_EQ(msg.rfind("s.yaml:" + location + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(words), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

TEST(Scenario, BaseLoads) {
  auto s = Load(kBase);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total_replicas(), 2);
  EXPECT_EQ(s->model->name, "Llama-2-7B");
  EXPECT_EQ(s->deployment[0].memory.max_model_len, 4096);
  EXPECT_GT(s->deployment[0].memory_plan.num_blocks, 1000);
  EXPECT_EQ(s->router.type, "round_robin");
  EXPECT_EQ(s->deployment[0].scheduler.type, "vllm");
}

TEST(Scenario, UnknownKeyWithSuggestion) {
  ExpectError(Replace(kBase, "horizon_s: 10", "horizn_s: 10"), "3:1", "unknown key 'horizn_s'");
  ExpectError(Replace(kBase, "horizon_s: 10", "horizn_s: 10"), "3:1", "did you mean 'horizon_s'");
  ExpectError(Replace(kBase, "    replicas: 2", "    replicas: 2\n    replica_count: 3"), "13:5", "unknown key 'replica_count'");
}

TEST(Scenario, WrongType) {
  ExpectError(Replace(kBase, "replicas: 2", "replicas: two"), "12:15", "deployment[0].replicas is 'two'");
  ExpectError(Replace(kBase, "rate_rps: 1", "rate_rps: [1]"), "16:15", "a number");
  ExpectError(Replace(kBase, "  nodes:\n    - type: DGX-H100\n      count: 1", "  nodes: DGX-H100"), "5:10", "cluster.nodes");
}

TEST(Scenario, OutOfRange) {
  ExpectError(Replace(kBase, "tensor_parallel: 1", "tensor_parallel: 3"), "11:22", "a power of two");
  ExpectError(Replace(kBase, "rate_rps: 1", "rate_rps: -4"), "16:15", "out of range");
  ExpectError(Replace(kBase, "replicas: 2", "replicas: 2\n    gpu_memory_utilization: 1.5"), "13:29", "out of range");
}

TEST(Scenario, UnknownCatalogNames) {
  ExpectError(Replace(kBase, "model: Llama-2-7B", "model: Llama-2-7"), "8:8", "not in the model catalog");
  ExpectError(Replace(kBase, "gpu: H100-SXM-80GB", "gpu: H100-SXM-80G"), "10:10", "did you mean 'H100-SXM-80GB'");
  ExpectError(Replace(kBase, "type: DGX-H100", "type: DGX-H1000"), "6:13", "not in the node type catalog");
  ExpectError(Replace(kBase, "router: round_robin", "router: fastest"), "13:9", "not a known policy");
}

TEST(Scenario, MissingTraceFile) {
  const std::string text = Replace(kBase,
                                   "  synthetic:\n    rate_rps: 1\n    prompt_tokens: {dist: fixed, value: 100}\n"
                                   "    output_tokens: {dist: fixed, value: 10}\n",
                                   "  trace: {path: no/such/trace.csv, format: azure}\n");
  ExpectError(text, "15:17", "'no/such/trace.csv' is not a readable file");
}

TEST(Scenario, ModelDoesNotFitAtThisTp) {
  const std::string text = Replace(Replace(kBase, "model: Llama-2-7B", "model: Llama-2-70B"), "tensor_parallel: 1",
                                   "tensor_parallel: 1");
  ExpectError(text, "10:5", "does not fit on H100-SXM-80GB at tensor_parallel 1");
  // At TP2 it fits.
  const std::string tp2 = Replace(Replace(kBase, "model: Llama-2-7B", "model: Llama-2-70B"), "tensor_parallel: 1",
                                  "tensor_parallel: 2");
  EXPECT_TRUE(Load(tp2).ok()) << Load(tp2).status();
}

TEST(Scenario, MoreGpusThanTheCluster) {
  ExpectError(Replace(kBase, "replicas: 2", "replicas: 9"), "10:5", "asks for 9 replicas x TP1 = 9 H100-SXM-80GB GPUs");
  ExpectError(Replace(kBase, "tensor_parallel: 1", "tensor_parallel: 16"), "10:5", "largest H100-SXM-80GB node holds 8");
  ExpectError(Replace(kBase, "gpu: H100-SXM-80GB", "gpu: A100-SXM-80GB"), "10:5", "no node with them");
}

TEST(Scenario, WholePromptSchedulerNeedsBudgetForLongestPrompt) {
  ExpectError(Replace(kBase, "replicas: 2", "replicas: 2\n    max_batched_tokens: 2048"), "13:25",
              "below max_model_len 4096");
  EXPECT_TRUE(Load(Replace(kBase, "replicas: 2", "replicas: 2\n    max_batched_tokens: 2048\n    scheduler: sarathi")).ok());
}

TEST(Scenario, SyntheticWorkloadNeedsAnEnd) {
  ExpectError(Replace(kBase, "horizon_s: 10\n", ""), "14:3", "never ends");
}

TEST(Scenario, YamlSyntaxError) {
  auto s = Load(Replace(kBase, "replicas: 2", "replicas: [2"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("s.yaml:", 0), 0u) << s.status();
  EXPECT_NE(s.status().message().find("YAML syntax error"), std::string::npos) << s.status();
}

TEST(Scenario, ShippedScenariosLoad) {
  for (const char* rel : {"scenarios/quickstart.yaml", "scenarios/annotated.yaml"}) {
    const std::string path = std::string(GPUFLEET_SOURCE_DIR) + "/" + rel;
    if (!std::filesystem::exists(path)) continue;
    auto s = LoadScenario(path, RealCatalog());
    EXPECT_TRUE(s.ok()) << rel << ": " << s.status();
  }
}

TEST(Scenario, CliRejectsBadScenarioWithExitCode2AndWritesNothing) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "bad.yaml", Replace(kBase, "replicas: 2", "replicas: -1"));
  const std::string db = dir + "/runs.db";
  auto r = testing::RunGpufleet("simulate " + path + " --json --db " + db, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.yaml:12:15: deployment[0].replicas is -1, out of range"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(db));
}

TEST(Scenario, CliRejectsBadFlagWithExitCode2) {
  auto r = testing::RunGpufleet("simulate --no-such-flag x.yaml", true);
  EXPECT_EQ(r.exit_code, 2);
  auto missing = testing::RunGpufleet("simulate /no/such/scenario.yaml", true);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("cannot open scenario file"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(Scenario, LognormalMedianOutsideBounds) {
  ExpectError(Replace(kBase, "output_tokens: {dist: fixed, value: 10}", "output_tokens: {dist: lognormal, median: 500, sigma: 1, max: 100}"),
              "18:46", "median 500 lies outside [min 1, max 100]");
}

TEST(Scenario, AbbreviatedNamesSuggestTheFullName) {
  ExpectError(Replace(kBase, "gpu: H100-SXM-80GB", "gpu: H100"), "10:10", "did you mean 'H100-SXM-80GB'");
}

TEST(Scenario, PolicyAndTagKeysAreCheckedWhereTheyAre) {
  // A misspelled policy parameter is a typo with a suggestion, found before the policy's own checks.
  ExpectError(Replace(kBase, "router: round_robin", "router: {type: power_of_two, choice: 3}"), "13:30",
              "did you mean 'choices'");
  ExpectError(Replace(kBase, "router: round_robin", "router: round_robin\nmigration: {type: load_balance, threshold: 5}"),
              "14:44", "migration.threshold is 5");
  ExpectError(Replace(kBase, "    replicas: 2", "    replicas: 2\n    prefix_cache: 2"), "13:19", "prefix_cache is 2");
  ExpectError(Replace(kBase, "workload:\n", "workload:\n  priorities: [0, 0]\n"), "15:15",
              "workload.priorities has no positive share");
  ExpectError(Replace(kBase, "workload:\n", "workload:\n  shared_prefix: {tokens: 100}\n"), "15:18",
              "workload.shared_prefix has no 'groups'");
  auto ok = Load(Replace(kBase, "workload:\n",
                         "workload:\n  priorities: [3, 1]\n  shared_prefix: {groups: 8, tokens: 64, zipf: 1}\n"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->workload.priority_shares, (std::vector<double>{3, 1}));
  EXPECT_EQ(ok->workload.prefix_groups, 8);
  EXPECT_EQ(ok->workload.prefix_share, 1.0);
}

TEST(Scenario, SeedDefaultsToZero) {
  auto s = Load(Replace(kBase, "seed: 1\n", ""));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->seed, 0u);
}

}  // namespace
}  // namespace gpufleet
