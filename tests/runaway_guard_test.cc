// The run's limits (sim/engine/run_guard.h): a bound on simulated time and the diverging-backlog rule end
// runs that would go on without end, with a partial result that every report marks. Each TEST runs at most
// one SimGrid engine, so run the binary with --gtest_filter=ONE_TEST (ctest does).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/engine/run_guard.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "sim/report/json_report.h"
#include "sim/report/text_report.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

Scenario Load(const std::string& text) {
  auto s = LoadScenarioFromString(text, "guard.yaml", ".", RealCatalog());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Scenario{};
}

using testing::RunAndRows;

RunAndRows Simulate(const Scenario& scenario) {
  auto r = testing::SimulateWithRows(scenario, RealCatalog());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : RunAndRows{};
}

// One H100 replica of Llama-2-7B; `extra` adds top-level keys, `perf` the perf model.
std::string Fleet(const std::string& extra, int replicas = 1, const std::string& perf = "") {
  return "seed: 1\n" + extra + "cluster: {nodes: [{type: DGX-H100, count: 1}]}\nmodel: Llama-2-7B\n" + perf +
         "deployment: [{gpu: H100-SXM-80GB, replicas: " + std::to_string(replicas) +
         ", scheduler: sarathi, max_batched_tokens: 2048}]\n"
         "slos: {ttft: {target_s: 1.0}, tbt: {target_s: 0.1}, e2e: {target_s: 30}}\n";
}

std::string Synthetic(double rate_rps, int prompt, int output) {
  return "workload:\n  synthetic:\n    rate_rps: " + std::to_string(rate_rps) +
         "\n    prompt_tokens: {dist: fixed, value: " + std::to_string(prompt) +
         "}\n    output_tokens: {dist: fixed, value: " + std::to_string(output) + "}\n";
}

// What every stopped run must satisfy: marked, ended at or before its bound, its unfinished requests pending
// and counted as SLO misses, busy time within the run.
void ExpectPartial(const Scenario& scenario, RunAndRows& run) {
  EXPECT_TRUE(run.partial);
  EXPECT_FALSE(run.stop_reason.empty());
  int64_t pending = 0;
  for (const RequestRow& r : run.rows) pending += r.status == RequestRow::kUnfinished;
  EXPECT_EQ(static_cast<int64_t>(run.rows.size()), run.arrived);
  EXPECT_GT(pending, 0);
  for (const ReplicaResult& r : run.replicas) EXPECT_LE(r.stats.busy_s, run.end_s) << r.replica;
  const RunSummary s = Summarize(scenario, RealCatalog(), run);
  EXPECT_TRUE(s.partial);
  EXPECT_EQ(s.requests_unfinished, pending);
  EXPECT_EQ(s.requests_arrived, s.requests_completed + s.requests_rejected + s.requests_unfinished);
  ASSERT_TRUE(s.slo_attainment.has_value());
  EXPECT_LE(*s.slo_attainment * static_cast<double>(s.requests_arrived),
            static_cast<double>(s.requests_completed) + 1e-9);
  auto j = SummaryJson(s, run);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)["partial"], true);
  EXPECT_EQ((*j)["stop_reason"], run.stop_reason);
  EXPECT_EQ((*j)["requests_unfinished"], pending);
  EXPECT_NE(SummaryTable(s, run).find("PARTIAL RESULT"), std::string::npos);
}

TEST(RunawayGuard, HugeIterationTimeStopsAtTheDefaultLimit) {
  // Every iteration takes 1e6 s: the first one would end far past 10 x horizon_s (3600 s at least).
  const Scenario scenario =
      Load(Fleet("horizon_s: 300\n", 1, "perf_model: {type: constant, iteration_s: 1e6}\n") + Synthetic(1, 200, 50));
  RunAndRows run = Simulate(scenario);
  ExpectPartial(scenario, run);
  EXPECT_EQ(run.end_s, 3600);
  EXPECT_NE(run.stop_reason.find("limit of 3600 s"), std::string::npos) << run.stop_reason;
  EXPECT_NE(run.stop_reason.find("10 x horizon_s"), std::string::npos) << run.stop_reason;
  // The one iteration under way, from the first arrival on, counts as busy up to the stop.
  ASSERT_EQ(run.replicas.size(), 1u);
  ASSERT_FALSE(run.rows.empty());
  double first_arrival = run.rows[0].arrival_s;
  for (const RequestRow& r : run.rows) first_arrival = std::min(first_arrival, r.arrival_s);
  EXPECT_DOUBLE_EQ(run.replicas[0].stats.busy_s, 3600 - first_arrival);
  EXPECT_EQ(run.replicas[0].stats.iterations, 0);
}

TEST(RunawayGuard, TinyHorizonStopsAtMaxSimTime) {
  // A few requests of 1000 output tokens each take tens of seconds to drain; the limit is 2 s.
  const Scenario scenario =
      Load(Fleet("horizon_s: 0.5\nlimits: {max_sim_time_s: 2}\n") + Synthetic(20, 100, 1000));
  EXPECT_EQ(scenario.max_sim_time_s, 2);
  RunAndRows run = Simulate(scenario);
  ExpectPartial(scenario, run);
  EXPECT_EQ(run.end_s, 2);
  EXPECT_NE(run.stop_reason.find("limits.max_sim_time_s"), std::string::npos) << run.stop_reason;
}

TEST(RunawayGuard, LimitBelowTheHorizonEndsArrivalsThere) {
  const Scenario scenario = Load(Fleet("horizon_s: 60\nlimits: {max_sim_time_s: 5}\n") + Synthetic(10, 100, 200));
  RunAndRows run = Simulate(scenario);
  ExpectPartial(scenario, run);
  EXPECT_EQ(run.end_s, 5);
  for (const RequestRow& r : run.rows) EXPECT_LE(r.arrival_s, 5);
}

TEST(RunawayGuard, OverloadedFleetStopsEarly) {
  // The audit's case: 100,000 req/s on four replicas. The backlog outgrows anything the fleet can drain
  // within 10 x horizon_s after a few seconds, long before the 300 s of arrivals.
  const Scenario scenario = Load(Fleet("horizon_s: 300\n", 4) + Synthetic(100000, 200, 100));
  RunAndRows run = Simulate(scenario);
  ExpectPartial(scenario, run);
  EXPECT_NE(run.stop_reason.find("backlog diverges"), std::string::npos) << run.stop_reason;
  EXPECT_LT(run.end_s, 30);
  EXPECT_GE(run.end_s, RunGuard::kGrowthCheckpoints * RunGuard::kCheckpointS);
}

TEST(RunawayGuard, LimitLoweredAtTheLastArrivalCutsAnIterationUnderWay) {
  // No horizon: until arrivals end only the ceiling applies, so the 1e5 s iteration that starts at t = 0
  // is allowed; at the last arrival (t = 2 s) the bound becomes max(10 x 2 s, 3600 s), which it crosses.
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "trace.csv", "arrival_s,prompt_tokens,output_tokens\n0,100,5\n1,100,5\n2,100,5\n");
  auto scenario = LoadScenarioFromString(
      Fleet("", 1, "perf_model: {type: constant, iteration_s: 1e5}\n") +
          "workload: {trace: {path: trace.csv, format: native}}\n",
      "guard.yaml", dir, RealCatalog());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunAndRows run = Simulate(*scenario);
  ExpectPartial(*scenario, run);
  EXPECT_EQ(run.end_s, 3600);
  EXPECT_NE(run.stop_reason.find("10 x the last arrival"), std::string::npos) << run.stop_reason;
}

TEST(RunawayGuard, ArrivalPastTheCeilingStopsThere) {
  // Reshaping can move an arrival beyond the 1e9 s a run can resolve: 2000 s / 1e-6 = 2e9 s.
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "trace.csv", "arrival_s,prompt_tokens,output_tokens\n0,100,5\n1000,100,5\n2000,100,5\n");
  auto scenario = LoadScenarioFromString(
      Fleet("") + "workload: {trace: {path: trace.csv, format: native}, rate_multiplier: 1e-6}\n", "guard.yaml", dir,
      RealCatalog());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunAndRows run = Simulate(*scenario);
  ExpectPartial(*scenario, run);
  EXPECT_EQ(run.end_s, kMaxSimTimeS);
  const RunSummary s = Summarize(*scenario, RealCatalog(), run);
  EXPECT_TRUE(std::isfinite(s.cost_usd_total));
  auto j = SummaryJson(s, run);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->dump().find("null"), std::string::npos) << j->dump();
}

TEST(RunawayGuard, AbsurdLimitsAreRefusedAtLoad) {
  auto huge = LoadScenarioFromString(Fleet("horizon_s: 9.2e18\n") + Synthetic(20, 100, 10), "guard.yaml", ".",
                                     RealCatalog());
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("horizon_s 9.2e+18 s is beyond"), std::string::npos) << huge.status();
  EXPECT_NE(huge.status().message().find("guard.yaml:2:"), std::string::npos) << huge.status();
  for (const char* limits : {"limits: {max_sim_time_s: 2e9}\n", "limits: {max_sim_time_s: 0}\n",
                             "limits: {max_sim_tme_s: 10}\n"}) {
    auto s = LoadScenarioFromString(Fleet(std::string("horizon_s: 10\n") + limits) + Synthetic(20, 100, 10),
                                    "guard.yaml", ".", RealCatalog());
    EXPECT_FALSE(s.ok()) << limits;
  }
}

// A limit the run never reaches changes nothing, and a partial run is as reproducible as any other.
TEST(RunawayGuard, CliPartialRunIsMarkedAndDeterministic) {
  const std::string dir = testing::TempDir();
  // The limit of 120 s makes the backlog rule fire as soon as it has seen its checkpoints.
  const std::string overloaded = testing::WriteFile(
      dir, "over.yaml", Fleet("horizon_s: 60\nlimits: {max_sim_time_s: 120}\n") + Synthetic(20000, 200, 100));
  auto a = testing::RunGpufleet("simulate " + overloaded + " --json --no-progress");
  auto b = testing::RunGpufleet("simulate " + overloaded + " --json --no-progress");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  const auto j = nlohmann::json::parse(a.output);
  EXPECT_EQ(j["partial"], true);
  EXPECT_NE(j["stop_reason"].get<std::string>().find("backlog diverges"), std::string::npos);
  EXPECT_GT(j["requests_unfinished"].get<int64_t>(), 0);

  auto table = testing::RunGpufleet("simulate " + overloaded + " --no-progress", /*merge_stderr=*/true);
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("gpufleet: warning: partial result: the backlog diverges"), std::string::npos)
      << table.output;
  EXPECT_NE(table.output.find("*** PARTIAL RESULT"), std::string::npos) << table.output;

  const std::string db_path = dir + "/runs.db";
  ASSERT_EQ(testing::RunGpufleet("simulate " + overloaded + " --no-progress --per-request --db " + db_path).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(testing::QueryInt(db, "SELECT partial FROM run_summary WHERE run_id = 1"), 1);
  EXPECT_EQ(testing::QueryInt(db, "SELECT requests_unfinished FROM run_summary WHERE run_id = 1"),
            j["requests_unfinished"].get<int64_t>());
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM requests WHERE status = 'unfinished' AND slo_met = 0"),
            j["requests_unfinished"].get<int64_t>());
  sqlite3_close(db);
}

TEST(RunawayGuard, CliLimitNotReachedChangesNothing) {
  const std::string dir = testing::TempDir();
  const std::string body = Fleet("horizon_s: 20\n") + Synthetic(5, 300, 50);
  const std::string plain = testing::WriteFile(dir, "plain.yaml", body);
  const std::string limited = testing::WriteFile(dir, "limited.yaml", body + "limits: {max_sim_time_s: 1000}\n");
  auto a = testing::RunGpufleet("simulate " + plain + " --json --no-progress");
  auto b = testing::RunGpufleet("simulate " + limited + " --json --no-progress");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(nlohmann::json::parse(a.output)["partial"], false);
}

}  // namespace
}  // namespace gpufleet
