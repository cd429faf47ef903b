// The oversubscription study: its conclusion (baseline, the largest ratio reached through acceptable counts
// only, breaker trips disqualify) on made-up figures, and `gpufleet oversubscribe` end to end with its
// input errors.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "orchestration/oversubscription.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

// Servers 1..6 at 10 kW nameplate under 25 kW: ratios 0.4 .. 2.4, baseline 2 servers (0.8).
OversubscriptionPlan Plan() {
  OversubscriptionPlan p;
  p.budget_w = 25000;
  p.server_peak_w = 10000;
  p.servers = {1, 2, 3, 4, 5, 6};
  return p;
}

SweepReport Report(const std::vector<double>& attainment, const std::vector<double>& trips) {
  SweepReport r;
  for (size_t i = 0; i < attainment.size(); ++i) {
    ReportPoint p;
    p.config = static_cast<int64_t>(i);
    p.seeds = {1};
    p.metrics["slo_attainment"].mean = attainment[i];
    p.metrics["breaker_trips"].mean = trips[i];
    r.points.push_back(p);
  }
  return r;
}

TEST(Oversubscription, AnswerIsTheLargestRatioReachedThroughAcceptableCounts) {
  // 5 servers pass again after 4 failed: the answer stops at 3.
  const auto r = ConcludeOversubscription(Plan(), Report({1, 0.99, 0.985, 0.95, 0.99, 0.9}, {0, 0, 0, 0, 0, 0}), 0.01);
  ASSERT_EQ(r.rows.size(), 6u);
  EXPECT_EQ(r.baseline, 1);
  EXPECT_DOUBLE_EQ(r.rows[1].ratio, 0.8);
  EXPECT_EQ(r.answer, 2);
  EXPECT_NEAR(r.rows[2].loss, 0.005, 1e-12);
  EXPECT_FALSE(r.rows[3].acceptable);
  EXPECT_TRUE(r.rows[4].acceptable);
}

TEST(Oversubscription, ABreakerTripDisqualifies) {
  const auto r = ConcludeOversubscription(Plan(), Report({1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 0, 0}), 0.01);
  EXPECT_EQ(r.answer, 2);
  EXPECT_FALSE(r.rows[3].acceptable);
}

TEST(Oversubscription, NoAcceptableCountAboveTheBaselineAnswersTheBaseline) {
  const auto r = ConcludeOversubscription(Plan(), Report({1, 1, 0.5, 0.5, 0.5, 0.5}, {0, 0, 0, 0, 0, 0}), 0.01);
  EXPECT_EQ(r.baseline, 1);
  EXPECT_EQ(r.answer, 1);
}

// One DGX-H100 (10.2 kW nameplate) with eight Llama-2-7B replicas under Poisson load.
constexpr const char* kBase = R"(seed: 2
horizon_s: 30
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 8, scheduler: sarathi, max_batched_tokens: 2048}]
workload:
  synthetic:
    rate_rps: 40
    prompt_tokens: {dist: lognormal, median: 800, sigma: 0.6, max: 3000}
    output_tokens: {dist: lognormal, median: 150, sigma: 0.6, max: 800}
slos: {ttft: {target_s: 2.0}}
)";

TEST(Oversubscription, StudyRunsEveryCountAndAnswers) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "base.yaml", kBase);
  auto r = testing::RunGpufleet("oversubscribe " + path + " --servers 1..3 --budget-w 25000 --jobs 2 --json --db " +
                                dir + "/study.db");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["rows"].size(), 3u);
  EXPECT_EQ(j["baseline_servers"], 2);  // 2 x 10.2 kW fits 25 kW, 3 do not
  EXPECT_DOUBLE_EQ(j["rows"][2]["ratio"].get<double>(), 3 * 10200.0 / 25000);
  for (const auto& row : j["rows"]) {
    EXPECT_TRUE(row["ran"].get<bool>()) << row.dump();
    EXPECT_GT(row["throughput_tok_s"].get<double>(), 0);
  }
  // Each server brings its load: three servers carry about three times one server's tokens.
  EXPECT_NEAR(j["rows"][2]["throughput_tok_s"].get<double>() / j["rows"][0]["throughput_tok_s"].get<double>(), 3, 0.3);
  EXPECT_FALSE(j["answer_servers"].is_null());
  // A second run finds every point in the database and answers the same.
  auto again = testing::RunGpufleet("oversubscribe " + path + " --servers 1..3 --budget-w 25000 --json --db " + dir +
                                    "/study.db");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(nlohmann::json::parse(again.output), j);
}

TEST(Oversubscription, InputErrorsNameWhatToChange) {
  const std::string dir = testing::TempDir();
  const std::string base = testing::WriteFile(dir, "base.yaml", kBase);
  auto all_over = testing::RunGpufleet("oversubscribe " + base + " --servers 3..4 --budget-w 25000", true);
  EXPECT_EQ(all_over.exit_code, 2) << all_over.output;
  EXPECT_NE(all_over.output.find("every count is oversubscribed"), std::string::npos) << all_over.output;
  auto no_budget = testing::RunGpufleet("oversubscribe " + base + " --servers 1..2", true);
  EXPECT_EQ(no_budget.exit_code, 2) << no_budget.output;
  EXPECT_NE(no_budget.output.find("no power budget"), std::string::npos) << no_budget.output;
  std::string odd = kBase;
  odd.replace(odd.find("count: 1"), 8, "count: 3");  // 8 replicas on 3 servers
  const std::string odd_path = testing::WriteFile(dir, "odd.yaml", odd);
  auto uneven = testing::RunGpufleet("oversubscribe " + odd_path + " --servers 1..2 --budget-w 25000", true);
  EXPECT_EQ(uneven.exit_code, 2) << uneven.output;
  EXPECT_NE(uneven.output.find("not a whole number per server"), std::string::npos) << uneven.output;
  auto bad = testing::RunGpufleet("oversubscribe " + base + " --servers 3..1 --budget-w 25000", true);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("expected e.g. 6,8,10 or 6..12"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace gpufleet
