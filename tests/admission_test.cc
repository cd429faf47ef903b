// Admission control (policies/admission): a token bucket never admits beyond its budget, rejections are
// counted by reason, and bad parameters are located in the scenario.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "policies/admission/admission_policy.h"
#include "sim/metrics/summary.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

std::unique_ptr<AdmissionPolicy> Bucket(double rate, double burst, const std::string& cost = "requests") {
  PolicyConfig cfg;
  cfg.type = "token_bucket";
  cfg.file = "test";
  cfg.node["type"] = "token_bucket";
  cfg.node["rate"] = rate;
  cfg.node["burst"] = burst;
  cfg.node["cost"] = cost;
  auto p = AdmissionRegistry::Get().Create(cfg);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

TEST(Admission, TokenBucketNeverAdmitsBeyondItsBudgetInAnyWindow) {
  FleetView fleet({{0, 0, 0, 0, 10, 10}}, 1, {});
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> gap(50.0);  // 50 arrivals/s against a 5/s bucket of 10
  for (const std::string cost : {"requests", "tokens"}) {
    auto bucket = cost == "requests" ? Bucket(5, 10) : Bucket(5000, 10000, "tokens");
    std::vector<double> admitted_at, admitted_cost;
    double t = 0;
    int64_t rejected = 0;
    for (int i = 0; i < 5000; ++i) {
      t += gap(rng);
      TraceRequest req{static_cast<uint64_t>(i), t, static_cast<uint32_t>(100 + i % 900), 100};
      if (auto why = bucket->Reject(req, t, fleet)) {
        EXPECT_EQ(*why, "token_bucket");
        ++rejected;
      } else {
        admitted_at.push_back(t);
        admitted_cost.push_back(cost == "requests" ? 1.0 : req.prompt_tokens + req.output_tokens);
      }
    }
    EXPECT_GT(rejected, 0);
    // Every window [admitted_at[i], admitted_at[j]] holds at most burst + rate x its length.
    const double rate = cost == "requests" ? 5 : 5000, burst = cost == "requests" ? 10 : 10000;
    for (size_t i = 0; i < admitted_at.size(); i += 7) {
      double sum = 0;
      for (size_t j = i; j < admitted_at.size(); ++j) {
        sum += admitted_cost[j];
        ASSERT_LE(sum, burst + rate * (admitted_at[j] - admitted_at[i]) + 1e-6) << cost << " window " << i << ".." << j;
      }
    }
  }
}

TEST(Admission, RejectionsAreCountedByReasonEndToEnd) {
  auto s = LoadScenarioFromString(R"(seed: 2
horizon_s: 30
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 2, max_model_len: 1200, max_batched_tokens: 2048}]
admission: {type: token_bucket, rate: 4, burst: 8}
workload:
  synthetic:
    rate_rps: 20
    prompt_tokens: {dist: uniform, min: 100, max: 1400}
    output_tokens: {dist: fixed, value: 50}
)", "adm.yaml", ".", RealCatalog());
  ASSERT_TRUE(s.ok()) << s.status();
  auto run = testing::SimulateWithRows(*s, RealCatalog());
  ASSERT_TRUE(run.ok()) << run.status();
  const int64_t bucket = run->rejected_by_reason["token_bucket"], overlength = run->rejected_by_reason["overlength"];
  EXPECT_GT(bucket, 0);
  EXPECT_GT(overlength, 0) << "prompts over 1200 - 50 tokens";
  EXPECT_EQ(bucket + overlength, run->rejected);
  const int64_t admitted = run->arrived - run->rejected;
  EXPECT_LE(admitted, 8 + 4 * 30) << "never beyond the bucket's budget over the horizon";
  int64_t completed = 0;
  for (const RequestRow& r : run->rows) completed += r.status == RequestRow::kCompleted;
  EXPECT_EQ(completed, admitted);
}

TEST(Admission, BadParametersAreLocated) {
  auto s = LoadScenarioFromString(R"(cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB}]
admission: {type: token_bucket, burst: 8}
workload: {synthetic: {rate_rps: 1, prompt_tokens: 10, output_tokens: 10}}
)", "adm.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("adm.yaml:4:"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("rate"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace gpufleet
