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

using testing::kMd1Base;

// The simulator's options for kMd1Base: its SLO is what outcomes are judged against.
PlanSimulatorOptions Md1SimOptions() {
  PlanSimulatorOptions o;
  o.binary = GPUFLEET_BINARY;
  o.jobs = 2;
  o.slos.ttft = {true, 0.05, 90};
  return o;
}

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
  PlanSimulator sim(*spec, ExpandCandidates(*spec, 4096), Md1SimOptions());
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
  PlanSimulator sim(*spec, ExpandCandidates(*spec, 4096), Md1SimOptions());
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
  // Each distinct verification run once: the mixed plan's fleet is the A100 one, which the cache has, and
  // the H100 node costs more than twice the verified A100 one, so the H100-only fleet is not simulated.
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM runs"), 1);
  EXPECT_GE(testing::QueryInt(db, "SELECT COUNT(*) FROM plan_cache"), 4);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM plan_capacities WHERE bucket = 'all'"), 2);
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
  const std::string h100 = j["rates"][0]["single_type"]["H100-SXM-80GB"]["why_not"];
  EXPECT_NE(h100.find("not verified: the program's fleet costs $88.25/h, over 2x a fleet already verified ($32.77/h)"),
            std::string::npos) << h100;
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

namespace gpufleet {
namespace {

TEST(PlanRepair, ACheaperTypeIsSwappedIn) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  auto spec = ParsePlanSpec("base: base.yaml\ncandidates: {gpus: [H100-SXM-80GB, A100-SXM-80GB], "
                            "max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}\n",
                            dir + "/plan.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  PlanSimulator sim(*spec, ExpandCandidates(*spec, 4096), Md1SimOptions());
  VerifiedFleet v;
  // Three H100 replicas carry 200 req/s; the constant model makes the cheaper A100 as fast.
  ASSERT_TRUE(VerifyRepairPrune(*spec, sim, {3}, 4.0, Fleet{{3, 0}}, {0, 1}, &v).ok());
  ASSERT_TRUE(v.found) << v.why_not;
  EXPECT_EQ(v.fleet.replicas, (std::vector<int64_t>{0, 3}));
  bool swapped = false;
  for (const std::string& l : v.log) swapped |= l.rfind("swap: 3 x H100-SXM-80GB", 0) == 0;
  EXPECT_TRUE(swapped) << ::testing::PrintToString(v.log);
}

TEST(PlanCache, ReplanningReusesTheSimulations) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  const std::string plan = testing::WriteFile(dir, "plan.yaml", R"(base: base.yaml
rates: [2]
candidates: {gpus: [H100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
)");
  const std::string cache = dir + "/cache.db";
  auto first = testing::RunGpufleet("plan " + plan + " --json --cache " + cache);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto a = nlohmann::json::parse(first.output);
  EXPECT_GT(a["simulations"].get<int>(), 5);
  // The same plan again: nothing to simulate, the same answer.
  auto again = testing::RunGpufleet("plan " + plan + " --json --cache " + cache);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto b = nlohmann::json::parse(again.output);
  EXPECT_EQ(b["simulations"], 0);
  EXPECT_EQ(b["rates"], a["rates"]);
  EXPECT_EQ(b["capacity"][0]["max_rate_multiplier"], a["capacity"][0]["max_rate_multiplier"]);
  // Another price: the capacity search is all cached (its probes carry no prices); only the verification
  // of the priced fleet runs again.
  const std::string priced = testing::WriteFile(dir, "priced.yaml", R"(base: base.yaml
rates: [2]
candidates: {gpus: [{gpu: H100-SXM-80GB, price_usd_per_hour: 1.0}], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
)");
  auto p = testing::RunGpufleet("plan " + priced + " --json --cache " + cache);
  ASSERT_EQ(p.exit_code, 0) << p.output;
  auto c = nlohmann::json::parse(p.output);
  EXPECT_EQ(c["capacity"][0]["probes"], 0);
  EXPECT_EQ(c["capacity"][0]["max_rate_multiplier"], a["capacity"][0]["max_rate_multiplier"]);
  EXPECT_LT(c["rates"][0]["best"]["cost_usd_per_hour"].get<double>(), a["rates"][0]["best"]["cost_usd_per_hour"].get<double>());
}

TEST(PlanFrontier, LooserTargetsNeverCostMore) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "base.yaml", kMd1Base);
  const std::string plan = testing::WriteFile(dir, "plan.yaml", R"(base: base.yaml
rates: [1]
candidates: {gpus: [H100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
frontier: {slo: ttft, targets_s: [0.012, 0.05, 0.2]}
)");
  auto r = testing::RunGpufleet("plan " + plan + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  const auto& points = j["frontier"]["points"];
  ASSERT_EQ(points.size(), 3u);
  double last = INFINITY;
  for (const auto& p : points) {
    ASSERT_TRUE(p["found"].get<bool>()) << p.dump();
    const double cost = p["cost_usd_per_hour"].get<double>();
    EXPECT_LE(cost, last + 1e-9) << p.dump();
    last = cost;
  }
  // 50 req/s: TTFT p90 within 12 ms (a 10 ms iteration) needs a second replica; 50 ms does not.
  auto replicas = [](const nlohmann::json& p) {
    int n = 0;
    for (const auto& g : p["fleet"]) n += g["replicas"].get<int>();
    return n;
  };
  EXPECT_GT(replicas(points[0]), replicas(points[2]));
  // The base's own target (0.05) is the plan's answer.
  EXPECT_EQ(points[1]["fleet"], j["rates"][0]["best"]["fleet"]);
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(PlanBuckets, EdgesMakeBucketsAndFilters) {
  auto spec = ParsePlanSpec("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\n"
                            "buckets: {prompt_tokens: [512, 2048], output_tokens: [256]}\n", "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::vector<PlanBucket> b = BucketsOf(*spec);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0].name, "prompt [0, 512) x output [0, 256)");
  EXPECT_EQ(b[3].Filter(), "{prompt_tokens: [512, 2048], output_tokens: [256, .inf]}");
  EXPECT_EQ(b[5].name, "prompt [2048, inf) x output [256, inf)");
  auto st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\nbuckets: {prompt_tokens: [512, 100]}\n");
  EXPECT_NE(st.message().find("not ascending"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB]}\nfrontier: {slo: ttfx, targets_s: [1]}\n");
  EXPECT_NE(st.message().find("p.yaml:3:"), std::string::npos) << st;
  st = ParseError("base: b.yaml\ncandidates: {gpus: [H100-SXM-80GB], routers: [size_buckets]}\n");
  EXPECT_NE(st.message().find("size_buckets is the router of the bucket plan"), std::string::npos) << st;
}

TEST(PlanBuckets, EachBucketIsSearchedAndItsProposalVerified) {
  const std::string dir = testing::TempDir();
  std::string base = kMd1Base;
  base.replace(base.find("prompt_tokens: {dist: fixed, value: 16}"), 39, "prompt_tokens: {dist: uniform, min: 16, max: 400}");
  testing::WriteFile(dir, "base.yaml", base);
  const std::string plan = testing::WriteFile(dir, "plan.yaml", R"(base: base.yaml
rates: [2]
candidates: {gpus: [H100-SXM-80GB, A100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
buckets: {prompt_tokens: [100]}
)");
  auto r = testing::RunGpufleet("plan " + plan + " --json --db " + dir + "/p.db");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["buckets"].size(), 2u);
  const double s0 = j["buckets"][0]["share"].get<double>(), s1 = j["buckets"][1]["share"].get<double>();
  EXPECT_NEAR(s0 + s1, 1.0, 1e-12);
  EXPECT_NEAR(s0, 84.0 / 385.0, 0.02);  // prompts 16..99 of 16..400
  // The constant model serves every size alike: a bucket's capacity is the whole mix's over its share.
  const auto& cap = j["capacity"][0];
  for (int b = 0; b < 2; ++b) {
    const double share = j["buckets"][b]["share"].get<double>();
    EXPECT_NEAR(cap["buckets"][b]["max_rate_multiplier"].get<double>() * share / cap["max_rate_multiplier"].get<double>(), 1.0, 0.15)
        << b;
  }
  bool bucket_proposal = false;
  for (const auto& p : j["rates"][0]["mixed_proposals"]) {
    if (p["proposal"] == "buckets, router size_buckets") bucket_proposal = p["found"].get<bool>();
  }
  EXPECT_TRUE(bucket_proposal) << j["rates"][0]["mixed_proposals"].dump();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/p.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM plan_capacities"), 6);  // 2 candidates x (all + 2 buckets)
  sqlite3_close(db);
}

}  // namespace
}  // namespace gpufleet
