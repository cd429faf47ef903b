// `gpufleet plan PLAN.yaml`: the plan file's errors, the capacity search against a closed-form queue
// (M/D/1), the repair loop on a deliberately small fleet, and the emitted scenario reproducing the plan.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "orchestration/child_processes.h"
#include "orchestration/plan/fleet_planner.h"
#include "orchestration/plan/plan_spec.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

absl::Status ParseError(const std::string& text) { return ParsePlanSpec(text, "p.yaml").status(); }

TEST(PlanSpec, ErrorsAreLocated) {
  auto st = ParseError("base: b.yaml\n");
  EXPECT_NE(st.message().find("candidates is missing"), std::string::npos) << st;
  st = ParseError("base: b.yaml\nset:\n  deployment[0].replicas: 3\ncandidates: {gpus: [H100-SXM-80GB]}\n");
  EXPECT_NE(st.message().find("p.yaml:3:3: set changes deployment[0].replicas, which the plan decides"),
            std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB], tensor_parallel: [2, 3]}\n");
  EXPECT_NE(st.message().find("tensor_parallel 3 is not a power of two"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\npower: {budget_w: 1000}\n");
  EXPECT_NE(st.message().find("p.yaml:3:8: power is not supported yet"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\nrates: [1, -2]\n");
  EXPECT_NE(st.message().find("p.yaml:3:12:"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB, H100-SXM-80GB]}\n");
  EXPECT_NE(st.message().find("listed twice"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\nobjective: cheapest\n");
  EXPECT_FALSE(st.ok());
  auto ok = ParsePlanSpec(
      "base: b.yaml\nrates: [1, 2]\ncandidates:\n  gpus: [{gpu: A100-SXM-80GB, price_usd_per_hour: 1.5, max_gpus: 16}]\n"
      "  tensor_parallel: [1, 2]\n  max_batched_tokens: [512, 2048]\nseeds: [1, 2]\n",
      "dir/p.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->base, "dir/b.yaml");
  EXPECT_EQ(ExpandCandidates(*ok, 4096).size(), 4u);
  EXPECT_EQ(*ok->gpus[0].max_gpus, 16);
}

// A constant-time replica serving one request at a time is an M/D/1 queue; its waiting-time distribution
// is Crommelin's: P(W <= t) = (1 - rho) sum_{k=0}^{floor(t/D)} (lambda (kD - t))^k / k! e^{-lambda (kD - t)}.
double MD1WaitCdf(double lambda, double d, double t) {
  double s = 0;
  for (int k = 0; k <= static_cast<int>(std::floor(t / d + 1e-9)); ++k) {
    const double x = lambda * (k * d - t);
    s += std::pow(x, k) / std::tgamma(k + 1.0) * std::exp(-x);
  }
  return (1 - lambda * d) * s;
}

constexpr const char* kMd1Base = R"(name: md1
seed: 3
model: Llama-2-7B
perf_model: {type: constant, iteration_s: 0.01}
deployment:
  - {gpu: H100-SXM-80GB, replicas: 1, max_batch_size: 1, max_batched_tokens: 4096, scheduler: vllm}
workload:
  synthetic:
    arrival: poisson
    rate_rps: 50
    prompt_tokens: {dist: fixed, value: 16}
    output_tokens: {dist: fixed, value: 1}
  max_requests: 20000
slos:
  ttft: {target_s: 0.05, percentile: 90}
)";

TEST(PlanCapacity, BisectionFindsTheMD1Capacity) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  const std::string plan = testing::WriteFile(dir, "plan.yaml", R"(base: base.yaml
rates: [2]
candidates: {gpus: [H100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
search: {tolerance: 0.01}
)");
  // TTFT = W + D with D = 10 ms: p90 <= 50 ms where P(W <= 40 ms) = 0.9.
  double lo = 1, hi = 99.9;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (MD1WaitCdf(mid, 0.01, 0.04) >= 0.9 ? lo : hi) = mid;
  }
  auto r = testing::RunGpufleet("plan " + plan + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  const double capacity_rps = j["capacity"][0]["max_rate_multiplier"].get<double>() * 50;
  EXPECT_NEAR(capacity_rps / lo, 1.0, 0.03) << "simulated " << capacity_rps << " req/s, M/D/1 " << lo << " req/s";
  EXPECT_EQ(j["capacity"][0]["limit"], "ttft p90");
  // At twice the base rate (100 req/s) the fleet needs two replicas.
  EXPECT_EQ(j["rates"][0]["best"]["fleet"][0]["replicas"], 2);
}

TEST(PlanRepair, AnUnderProvisionedFleetIsRepairedThenPruned) {
  const std::string dir = testing::TempDir();
  const std::string base = testing::WriteFile(dir, "base.yaml", kMd1Base);
  auto spec = ParsePlanSpec("base: base.yaml\ncandidates: {gpus: [H100-SXM-80GB], max_batched_tokens: [4096], "
                            "scheduler: vllm, max_batch_size: 1}\n",
                            dir + "/plan.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  PlanSimulator sim(*spec, ExpandCandidates(*spec, 4096), GPUFLEET_BINARY, 2, "");
  VerifiedFleet v;
  // 200 req/s needs 3 replicas of ~76 req/s; start from one.
  ASSERT_TRUE(VerifyRepairPrune(*spec, sim, {3}, 4.0, Fleet{{1}}, {0}, &v).ok());
  ASSERT_TRUE(v.found) << v.why_not;
  EXPECT_EQ(v.fleet.replicas[0], 3);
  ASSERT_GE(v.log.size(), 3u);
  EXPECT_NE(v.log[0].find("misses"), std::string::npos) << v.log[0];
  EXPECT_NE(v.log[1].find("repair: add 1"), std::string::npos) << v.log[1];
  EXPECT_TRUE(v.seeds.front().slos_met);
  // Starting too large, pruning comes down to the same size.
  VerifiedFleet big;
  ASSERT_TRUE(VerifyRepairPrune(*spec, sim, {3}, 4.0, Fleet{{6}}, {0}, &big).ok());
  EXPECT_EQ(big.fleet.replicas[0], 3);
}

TEST(PlanRepair, RepairStopsAtTheGpusAvailability) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  auto spec = ParsePlanSpec("base: base.yaml\ncandidates: {gpus: [{gpu: H100-SXM-80GB, max_gpus: 2}], "
                            "max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}\n",
                            dir + "/plan.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  PlanSimulator sim(*spec, ExpandCandidates(*spec, 4096), GPUFLEET_BINARY, 2, "");
  VerifiedFleet v;
  // 200 req/s needs 3 replicas; only 2 GPUs may be had.
  ASSERT_TRUE(VerifyRepairPrune(*spec, sim, {3}, 4.0, Fleet{{1}}, {0}, &v).ok());
  EXPECT_FALSE(v.found);
  EXPECT_NE(v.why_not.find("availability"), std::string::npos) << v.why_not;
  EXPECT_EQ(v.fleet.replicas[0], 2);
  VerifiedFleet over;
  ASSERT_TRUE(VerifyRepairPrune(*spec, sim, {3}, 4.0, Fleet{{3}}, {0}, &over).ok());
  EXPECT_FALSE(over.found);
  EXPECT_NE(over.why_not.find("H100-SXM-80GB (3 GPUs, max_gpus 2)"), std::string::npos) << over.why_not;
}

TEST(PlanCli, TheWrittenScenarioReproducesTheVerifiedRun) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  const std::string plan = testing::WriteFile(dir, "plan.yaml", R"(base: base.yaml
rates: [3]
candidates: {gpus: [H100-SXM-80GB, A100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
)");
  auto r = testing::RunGpufleet("plan " + plan + " --json -o " + dir + "/out/fleet.yaml");
  EXPECT_EQ(r.exit_code, 2) << "the -o folder does not exist: refused before planning";
  std::filesystem::create_directories(dir + "/out");
  r = testing::RunGpufleet("plan " + plan + " --json -o " + dir + "/out/fleet.yaml --db " + dir + "/plan.db");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The plan's rows and its verification runs are in the database.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/plan.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM plans"), 1);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM plan_candidates"), 2);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM plan_fleets WHERE fleet = 'best' AND found = 1"), 1);
  EXPECT_GE(testing::QueryInt(db, "SELECT COUNT(*) FROM runs"), 3);
  sqlite3_close(db);
  auto j = nlohmann::json::parse(r.output);
  const auto& best = j["rates"][0]["best"];
  ASSERT_TRUE(best["found"].get<bool>());
  auto sim = testing::RunGpufleet("simulate " + dir + "/out/fleet.yaml --json");
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  auto s = nlohmann::json::parse(sim.output);
  for (const char* k : {"ttft_p50_s", "ttft_p99_s", "goodput_rps", "cost_usd_per_mtok"}) {
    EXPECT_EQ(s[k], best["seeds"][0][k]) << k;
  }
  EXPECT_EQ(s["cost_usd_per_hour"], best["cost_usd_per_hour"]);
  // The constant model makes both GPU types equally fast: the cheaper A100 nodes win.
  EXPECT_EQ(best["fleet"][0]["gpu"], "A100-SXM-80GB");
  EXPECT_TRUE(j["rates"][0].contains("saving_vs_best_single_type"));
}

TEST(PlanCli, InfeasibleSlosNameTheTightest) {
  const std::string dir = testing::TempDir();
  std::string base = kMd1Base;
  base.replace(base.find("target_s: 0.05"), 14, "target_s: 0.005");  // below one 10 ms iteration
  testing::WriteFile(dir, "base.yaml", base);
  const std::string plan = testing::WriteFile(
      dir, "plan.yaml", "base: base.yaml\ncandidates: {gpus: [H100-SXM-80GB], max_batch_size: 1, scheduler: vllm}\n");
  auto r = testing::RunGpufleet("plan " + plan, true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no candidate meets the SLOs at any size"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ttft p90"), std::string::npos) << r.output;
}

TEST(PlanCli, BaseWithoutSlosOrWithAHorizonIsRefused) {
  const std::string dir = testing::TempDir();
  std::string base = kMd1Base;
  testing::WriteFile(dir, "base.yaml", base.substr(0, base.find("slos:")));
  const std::string plan = testing::WriteFile(dir, "plan.yaml", "base: base.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\n");
  auto r = testing::RunGpufleet("plan " + plan, true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("has no slos"), std::string::npos) << r.output;
  testing::WriteFile(dir, "base.yaml", "horizon_s: 100\n" + base);
  r = testing::RunGpufleet("plan " + plan, true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("sets horizon_s"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gpufleet
