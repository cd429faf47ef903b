// End-to-end simulations with asserted invariants. Each TEST runs one SimGrid engine, so each must run in
// its own process: ctest does this (gtest_discover_tests); run the binary with --gtest_filter=ONE_TEST.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

using testing::RunAndRows;

absl::StatusOr<RunAndRows> RunScenario(const std::string& text, Scenario* out = nullptr) {
  auto s = LoadScenarioFromString(text, "e2e.yaml", ".", RealCatalog());
  if (!s.ok()) return s.status();
  if (out != nullptr) *out = *s;
  return testing::SimulateWithRows(*s, RealCatalog());
}

// Checks the invariants every run must satisfy.
void ExpectInvariants(const RunAndRows& run) {
  int64_t completed = 0, rejected = 0;
  std::vector<int> seen(run.rows.size(), 0);
  for (const RequestRow& r : run.rows) {
    const uint64_t id = r.id;
    ASSERT_LT(id, seen.size()) << "request ids are 0 .. arrived - 1";
    ASSERT_EQ(++seen[id], 1) << "request " << id << " has two rows";
    ASSERT_NE(r.status, RequestRow::kUnfinished) << "request " << id << " never finished";
    if (r.status == RequestRow::kRejected) {
      ++rejected;
      continue;
    }
    ++completed;
    EXPECT_GT(r.ttft_s, 0) << id;
    EXPECT_LE(r.ttft_s, r.e2e_s) << id;
    EXPECT_GE(r.queue_s, 0) << id;
    EXPECT_LE(r.queue_s, r.ttft_s + 1e-9) << id;
    EXPECT_GE(r.replica, 0);
    EXPECT_LE(r.arrival_s + r.e2e_s, run.end_s + 1e-9);
  }
  EXPECT_EQ(static_cast<int64_t>(run.rows.size()), run.arrived);
  EXPECT_EQ(completed + rejected, run.arrived);
  EXPECT_EQ(rejected, run.rejected);
  int64_t routed = 0, out_tokens = 0;
  for (const ReplicaResult& r : run.replicas) {
    EXPECT_LE(r.stats.kv_blocks_peak, r.stats.kv_blocks_total) << "replica " << r.replica;
    EXPECT_LE(r.stats.busy_s, run.end_s + 1e-9);
    routed += r.stats.requests;
    out_tokens += r.stats.output_tokens;
  }
  EXPECT_EQ(routed, completed);  // each routed request completes exactly once
  int64_t recorded_tokens = 0;
  for (const RequestRow& r : run.rows)
    if (r.status == RequestRow::kCompleted) recorded_tokens += r.output_tokens;
  EXPECT_EQ(out_tokens, recorded_tokens);
  EXPECT_EQ(run.log.completed(), completed);
  EXPECT_EQ(run.log.output_tokens(), recorded_tokens);
}

const std::string kPressure = std::string(testing::kKvPressureScenario) + R"(slos:
  ttft: {target_s: 5}
  tbt: {target_s: 0.5, percentile: 90}
)";

TEST(EngineE2E, EveryRequestCompletesOnceUnderKvPressure) {
  auto run = RunScenario(kPressure);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_GT(run->arrived, 250);
  ExpectInvariants(*run);
  int64_t preemptions = 0;
  for (const auto& r : run->replicas) {
    preemptions += r.stats.preemptions;
    EXPECT_EQ(r.stats.kv_blocks_peak, r.stats.kv_blocks_total) << "the pool should have been exhausted";
  }
  EXPECT_GT(preemptions, 0) << "the scenario is meant to exhaust the KV cache";
}

TEST(EngineE2E, ChunkedPrefillServesPromptsLongerThanTheBudget) {
  std::string text = kPressure;
  text.replace(text.find("scheduler: vllm"), 15, "scheduler: sarathi, max_batched_tokens: 512");
  auto run = RunScenario(text);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectInvariants(*run);
  uint32_t longest = 0;
  for (const auto& r : run->rows) longest = std::max(longest, r.prompt_tokens);
  EXPECT_GT(longest, 512u);
}

// Prompts up to 1500 tokens against a max_model_len of 1024.
const char* kOverlength = R"(seed: 5
horizon_s: 30
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 2, max_model_len: 1024, max_batched_tokens: 1024}]
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: uniform, min: 100, max: 1500}
    output_tokens: {dist: fixed, value: 50}
)";

TEST(EngineE2E, OverlengthRequestsAreRejectedByDefault) {
  auto run = RunScenario(kOverlength);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectInvariants(*run);
  EXPECT_GT(run->rejected, 0);
  EXPECT_EQ(run->truncated, 0);
}

TEST(EngineE2E, TruncateKeepsEveryRequestWithinMaxModelLen) {
  auto run = RunScenario(std::string(kOverlength) + "  overlength: truncate\n");
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectInvariants(*run);
  EXPECT_EQ(run->rejected, 0);
  EXPECT_GT(run->truncated, 0);
  for (const auto& r : run->rows) EXPECT_LE(r.prompt_tokens + r.output_tokens, 1024u);
}

// One replica, batch size 1, Poisson arrivals and a constant service time D: an M/D/1 queue, whose mean
// waiting time is rho * D / (2 (1 - rho)) (Pollaczek-Khinchine).
TEST(EngineE2E, SingleReplicaMatchesMD1MeanWait) {
  const double rate = 0.6, service = 1.0;
  const std::string text = R"(seed: 11
horizon_s: 100000
cluster: {nodes: [{type: aws-g6.xlarge, count: 1}]}
model: Llama-2-7B
perf_model: {type: constant, iteration_s: 1.0}
deployment: [{gpu: L4, replicas: 1, max_batch_size: 1}]
workload:
  synthetic:
    arrival: poisson
    rate_rps: 0.6
    prompt_tokens: {dist: fixed, value: 16}
    output_tokens: {dist: fixed, value: 1}
)";
  Scenario scenario;
  auto run = RunScenario(text, &scenario);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectInvariants(*run);
  ASSERT_GT(run->arrived, 55000);
  double wait_sum = 0;
  for (const auto& r : run->rows) {
    wait_sum += r.queue_s;
    EXPECT_NEAR(r.e2e_s - r.queue_s, service, 1e-6);  // service is exactly one iteration
  }
  const double mean_wait = wait_sum / static_cast<double>(run->arrived);
  const double rho = rate * service;
  const double expected = rho * service / (2 * (1 - rho));  // 0.75 s
  // Batch-means standard error at this length is ~1.5%; 6% is four of them.
  std::printf("M/D/1: mean wait %.4f s, closed form %.4f s, %lld requests\n", mean_wait, expected,
              static_cast<long long>(run->arrived));
  EXPECT_NEAR(mean_wait, expected, 0.06 * expected) << "mean wait " << mean_wait << " vs M/D/1 " << expected;
  RunSummary summary = Summarize(scenario, RealCatalog(), *run);
  EXPECT_NEAR(summary.gpu_util_deployed_mean, rho, 0.02);
}

// A fleet of 2,000 replicas (250 DGX-H100) at a small request count: every request completes once, and
// least-outstanding-tokens routing always finds an idle replica (at most ~800 requests are in flight), so
// no replica ever runs two at once.
TEST(EngineE2E, TwoThousandReplicasServeEveryRequestOnce) {
  const std::string text = R"(seed: 3
horizon_s: 2
cluster: {nodes: [{type: DGX-H100, count: 250}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 2000, scheduler: sarathi, max_batched_tokens: 2048}]
workload:
  synthetic:
    rate_rps: 2000
    prompt_tokens: {dist: lognormal, median: 300, sigma: 0.8, max: 3000}
    output_tokens: {dist: lognormal, median: 40, sigma: 0.8, max: 1000}
)";
  auto run = RunScenario(text);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->replicas.size(), 2000u);
  EXPECT_GT(run->arrived, 3500);
  ExpectInvariants(*run);
  int used = 0;
  for (const ReplicaResult& r : run->replicas) {
    used += r.stats.requests > 0;
    EXPECT_LE(r.stats.max_running, 1) << "replica " << r.replica << " was given a request while busy";
  }
  EXPECT_GT(used, 500) << "requests should spread over the fleet";
}

TEST(EngineE2E, TensorParallelReplicasSpanNodesCorrectly) {
  const std::string text = R"(seed: 2
horizon_s: 20
cluster: {nodes: [{type: DGX-H100, count: 2}, {type: DGX-A100, count: 1}]}
model: Llama-2-70B
deployment:
  - {name: h100, gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 4}
  - {name: a100, gpu: A100-SXM-80GB, tensor_parallel: 8, replicas: 1}
workload:
  synthetic:
    rate_rps: 3
    prompt_tokens: {dist: fixed, value: 500}
    output_tokens: {dist: fixed, value: 100}
)";
  auto run = RunScenario(text);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectInvariants(*run);
  ASSERT_EQ(run->replicas.size(), 5u);
  std::set<std::string> hosts;
  for (const auto& r : run->replicas) {
    EXPECT_EQ(static_cast<int>(r.hosts.size()), r.tensor_parallel);
    // All of a replica's GPUs sit in one node.
    const std::string node = r.hosts.front().substr(0, r.hosts.front().rfind("-g"));
    for (const auto& h : r.hosts) {
      EXPECT_EQ(h.substr(0, h.rfind("-g")), node);
      EXPECT_TRUE(hosts.insert(h).second) << h << " used twice";
    }
  }
  EXPECT_EQ(run->replicas[4].gpu, "A100-SXM-80GB");
  EXPECT_EQ(run->gpus.size(), 24u);
}

TEST(EngineE2E, AzureConvTraceReplays) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present: skipping the Azure trace replay";
  const std::string text = "seed: 1\n"
                           "cluster: {nodes: [{type: DGX-H100, count: 2}]}\n"
                           "model: Llama-2-70B\n"
                           "deployment: [{gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 4, scheduler: sarathi, max_batched_tokens: 2048}]\n"
                           "workload:\n"
                           "  trace: {path: " + testing::SharedData("azure-llm-2023/AzureLLMInferenceTrace_conv.csv") +
                           ", format: azure}\n"
                           "  overlength: truncate\n";
  auto run = RunScenario(text);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->arrived, 19366);
  ExpectInvariants(*run);
  EXPECT_GT(run->truncated, 0);
}

}  // namespace
}  // namespace gpufleet
