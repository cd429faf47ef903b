// Figures with nothing to measure are reported as undefined, never as a result: an SLO without samples is
// "not evaluated" (not "met"), a run without output has no cost per token (not $0), and the JSON never
// carries null or a non-finite number. Each TEST runs at most one SimGrid engine (--gtest_filter=ONE_TEST).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "sim/report/json_report.h"
#include "sim/report/text_report.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::QueryInt;
using testing::RealCatalog;

// One H100 replica with all three SLOs; `max_model_len` and the fixed lengths decide what is rejected.
std::string Scenario1(int max_model_len, int prompt, int output) {
  return "seed: 1\nhorizon_s: 10\ncluster: {nodes: [{type: DGX-H100, count: 1}]}\nmodel: Llama-2-7B\n"
         "deployment: [{gpu: H100-SXM-80GB, replicas: 1, max_model_len: " + std::to_string(max_model_len) +
         ", scheduler: sarathi, max_batched_tokens: 2048}]\n"
         "slos: {ttft: {target_s: 1.0}, tbt: {target_s: 0.1}, e2e: {target_s: 30}}\n"
         "workload:\n  synthetic:\n    rate_rps: 5\n    prompt_tokens: {dist: fixed, value: " +
         std::to_string(prompt) + "}\n    output_tokens: {dist: fixed, value: " + std::to_string(output) + "}\n";
}

// Every value of `j`, recursively, is anything but null.
void ExpectNoNull(const nlohmann::json& j, const std::string& path = "") {
  EXPECT_FALSE(j.is_null()) << path;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) ExpectNoNull(it.value(), path + "." + it.key());
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) ExpectNoNull(j[i], path + "[" + std::to_string(i) + "]");
  }
}

TEST(SummaryHonesty, AllRejectedReportsNothingAsMet) {
  const std::string dir = testing::TempDir();
  // Prompts of 512 tokens against a max_model_len of 256: every request is rejected.
  const std::string rejected = testing::WriteFile(dir, "rejected.yaml", Scenario1(256, 512, 10));
  auto r = testing::RunGpufleet("simulate " + rejected + " --json --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  ExpectNoNull(j);
  EXPECT_EQ(j["requests_completed"], 0);
  EXPECT_GT(j["requests_rejected"].get<int64_t>(), 0);
  EXPECT_EQ(j["partial"], false);
  EXPECT_EQ(j["slo_attainment"], 0.0);  // everything arrived and was missed: defined, and 0
  EXPECT_FALSE(j.contains("cost_usd_per_mtok"));
  EXPECT_GT(j["cost_usd_total"].get<double>(), 0);
  for (const char* metric : {"ttft", "tbt", "tpot", "e2e", "queue"}) {
    for (const char* stat : {"mean", "p50", "p90", "p95", "p99", "max"}) {
      EXPECT_FALSE(j.contains(std::string(metric) + "_" + stat + "_s")) << metric << " " << stat;
    }
  }
  ASSERT_EQ(j["slos"].size(), 3u);
  for (const auto& slo : j["slos"]) {
    EXPECT_EQ(slo["evaluated"], false) << slo;
    EXPECT_FALSE(slo.contains("met")) << slo;
    EXPECT_FALSE(slo.contains("observed_s")) << slo;
  }

  auto table = testing::RunGpufleet("simulate " + rejected + " --no-progress");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(table.output.find(": met"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find("$0.000 per 1M"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("per 1M output tokens undefined"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("SLO ttft p99 vs target 1000.0 ms: not evaluated"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("  TTFT   no samples"), std::string::npos) << table.output;
  EXPECT_EQ(table.output.find("PARTIAL"), std::string::npos) << table.output;

  // In SQLite the undefined figures are NULL, even once a later run has added their columns, and the SLOs
  // that were not evaluated have no slo_results row.
  const std::string db_path = dir + "/runs.db";
  const std::string served = testing::WriteFile(dir, "served.yaml", Scenario1(4096, 512, 10));
  ASSERT_EQ(testing::RunGpufleet("simulate " + rejected + " --no-progress --db " + db_path).exit_code, 0);
  ASSERT_EQ(testing::RunGpufleet("simulate " + served + " --no-progress --db " + db_path).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM run_summary WHERE run_id = 1 AND cost_usd_per_mtok IS NULL "
                         "AND ttft_p99_s IS NULL AND slo_attainment = 0 AND partial = 0"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM run_summary WHERE run_id = 2 AND cost_usd_per_mtok > 0 "
                         "AND ttft_p99_s > 0 AND partial = 0"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM slo_results WHERE run_id = 1"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM slo_results WHERE run_id = 2"), 3);
  sqlite3_close(db);
}

TEST(SummaryHonesty, OneTokenOutputsLeaveTbtNotEvaluated) {
  auto scenario = LoadScenarioFromString(Scenario1(4096, 200, 1), "honesty.yaml", ".", RealCatalog());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunOptions options;
  options.progress = false;
  auto run = RunSimulation(*scenario, RealCatalog(), options);
  ASSERT_TRUE(run.ok()) << run.status();
  const RunSummary s = Summarize(*scenario, RealCatalog(), *run);
  EXPECT_GT(s.requests_completed, 0);
  EXPECT_EQ(s.tbt.samples, 0u);
  EXPECT_EQ(s.tpot.samples, 0u);
  EXPECT_EQ(s.ttft.samples, static_cast<uint64_t>(s.requests_completed));
  ASSERT_EQ(s.slos.size(), 3u);
  for (const SloOutcome& o : s.slos) EXPECT_EQ(o.evaluated, o.metric != "tbt") << o.metric;
  ASSERT_TRUE(s.cost_usd_per_mtok.has_value());

  auto j = SummaryJson(s, *run);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_TRUE(j->contains("ttft_p99_s"));
  EXPECT_FALSE(j->contains("tbt_p99_s"));
  EXPECT_FALSE(j->contains("tpot_mean_s"));
  EXPECT_TRUE(j->contains("cost_usd_per_mtok"));
  const std::string table = SummaryTable(s, *run);
  EXPECT_NE(table.find("SLO tbt  p99 vs target 100.0 ms: not evaluated (no samples)"), std::string::npos) << table;
  EXPECT_NE(table.find("SLO ttft p99"), std::string::npos) << table;
}

// A summary of a run in which nothing arrived (no engine needed: Summarize only reads the result).
RunSummary EmptySummary(const Scenario& scenario, RunResult& run) { return Summarize(scenario, RealCatalog(), run); }

TEST(SummaryHonesty, NothingArrivedLeavesAttainmentUndefined) {
  auto scenario = LoadScenarioFromString(Scenario1(4096, 200, 10), "honesty.yaml", ".", RealCatalog());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunResult run;
  const RunSummary s = EmptySummary(*scenario, run);
  EXPECT_FALSE(s.slo_attainment.has_value());
  EXPECT_FALSE(s.cost_usd_per_mtok.has_value());
  for (const SloOutcome& o : s.slos) EXPECT_FALSE(o.evaluated) << o.metric;
  auto j = SummaryJson(s, run);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_FALSE(j->contains("slo_attainment"));
  ExpectNoNull(nlohmann::json::parse(j->dump()));
  EXPECT_NE(SummaryTable(s, run).find("SLO attainment not evaluated (no request arrived)"), std::string::npos);
}

TEST(SummaryHonesty, JsonWriterRefusesNonFiniteNumbers) {
  auto scenario = LoadScenarioFromString(Scenario1(4096, 200, 10), "honesty.yaml", ".", RealCatalog());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunResult run;
  RunSummary s = EmptySummary(*scenario, run);
  ASSERT_TRUE(SummaryJson(s, run).ok());

  s.cost_usd_total = std::numeric_limits<double>::infinity();
  auto inf = SummaryJson(s, run);
  ASSERT_FALSE(inf.ok());
  EXPECT_EQ(inf.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(inf.status().message().find("cost_usd_total is inf"), std::string::npos) << inf.status();

  s.cost_usd_total = 0;
  s.duration_s = 1;
  ReplicaResult replica;
  replica.stats.busy_s = std::nan("");
  run.replicas.push_back(replica);
  auto nan = SummaryJson(s, run);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("replicas[0].util is nan"), std::string::npos) << nan.status();
}

}  // namespace
}  // namespace gpufleet
