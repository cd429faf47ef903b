// The gpufleet CLI end to end: JSON keys, determinism, SQLite reports, the benchmark at small scale.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "sim/report/sqlite_db.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::kQuickstart;
using testing::QueryInt;

TEST(Cli, QuickstartJsonHasTheDocumentedKeys) {
  auto r = testing::RunGpufleet("simulate " + kQuickstart + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  for (const char* key : {"requests_completed", "ttft_p50_s", "ttft_p99_s", "tbt_p50_s", "tbt_p99_s", "e2e_p50_s",
                          "e2e_p99_s", "throughput_tok_s", "slo_attainment", "cost_usd_per_hour", "cost_usd_per_mtok",
                          "gpu_util_mean", "perf_model"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["perf_model"],
            "calibrated operator model (H100-SXM-80GB: calibrated); serving stack vllm-0.11 (default: the most recent "
            "stack with measurements of H100-SXM-80GB)");
  EXPECT_GT(j["requests_completed"].get<int64_t>(), 1000);
  EXPECT_LE(j["ttft_p50_s"].get<double>(), j["ttft_p99_s"].get<double>());
  EXPECT_LE(j["tbt_p50_s"].get<double>(), j["tbt_p99_s"].get<double>());
  EXPECT_GE(j["slo_attainment"].get<double>(), 0.0);
  EXPECT_LE(j["slo_attainment"].get<double>(), 1.0);
  EXPECT_GT(j["cost_usd_per_hour"].get<double>(), 0.0);
}

TEST(Cli, SameSeedGivesByteIdenticalJson) {
  auto a = testing::RunGpufleet("simulate " + kQuickstart + " --json");
  auto b = testing::RunGpufleet("simulate " + kQuickstart + " --json");
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.output, b.output);
  auto c = testing::RunGpufleet("simulate " + kQuickstart + " --json --seed 7");
  ASSERT_EQ(c.exit_code, 0);
  EXPECT_NE(a.output, c.output) << "a different seed should change the run";
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* sub : {"", "simulate ", "catalog ", "policies "}) {
    auto r = testing::RunGpufleet(std::string(sub) + "--help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub << r.output;
  }
}


TEST(Cli, SqliteReportAppendsWholeRuns) {
  const std::string dir = testing::TempDir();
  const std::string db_path = dir + "/runs.db";
  auto first = testing::RunGpufleet("simulate " + kQuickstart + " --json --db " + db_path + " --per-request");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto second = testing::RunGpufleet("simulate " + kQuickstart + " --db " + db_path + " --seed 9");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const auto j = nlohmann::json::parse(first.output);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(QueryInt(db, "SELECT value FROM schema_info WHERE key = 'schema_version'"), kSqliteSchemaVersion);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM runs"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM run_summary"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT seed FROM runs WHERE run_id = 2"), 9);
  EXPECT_GT(QueryInt(db, "SELECT LENGTH(scenario_text) FROM runs WHERE run_id = 1"), 100);
  EXPECT_EQ(QueryInt(db, "SELECT requests_completed FROM run_summary WHERE run_id = 1"),
            j["requests_completed"].get<int64_t>());
  // Per-request rows only for the run that asked for them.
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM requests WHERE run_id = 1"), j["requests_arrived"].get<int64_t>());
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM requests WHERE run_id = 2"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM requests WHERE run_id = 1 AND ttft_s > e2e_s"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM replicas WHERE run_id = 1"), 4);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM gpus WHERE run_id = 1"), 8);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM slo_results WHERE run_id = 1"), 3);
  EXPECT_GE(QueryInt(db, "SELECT COUNT(*) FROM costs WHERE run_id = 1"), 1);
  sqlite3_close(db);
}

TEST(Cli, NonDatabaseFileIsRefusedAndLeftAlone) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "notes.txt", "not a database\n");
  auto r = testing::RunGpufleet("simulate " + kQuickstart + " --db " + path, true);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("notes.txt"), std::string::npos) << r.output;
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "not a database\n");
}

TEST(Cli, MalformedTraceRowMidRunExits2) {
  const std::string dir = testing::TempDir();
  const std::string scenario = testing::WriteScenarioWithMalformedTrace(dir);
  auto r = testing::RunGpufleet("simulate " + scenario + " --json --db " + dir + "/x.db", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("trace.csv:52:"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.db"));
}

// The benchmark program at small scale, so it cannot rot (its figures are in BENCHMARKS.md, not here).
TEST(Cli, BenchmarkRunsAtSmallScale) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present: the benchmark replays the Azure trace";
  const std::string cmd = std::string(GPUFLEET_BENCH_BINARY) + " --max-requests 3000 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("requests            3000 arrived, 3000 completed"), std::string::npos) << out;
  EXPECT_NE(out.find("peak RSS"), std::string::npos) << out;
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(Cli, OlderDatabaseGainsNewSummaryColumns) {
  const std::string dir = testing::TempDir();
  const std::string db_path = dir + "/old.db";
  ASSERT_EQ(testing::RunGpufleet("simulate " + kQuickstart + " --db " + db_path).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  // Simulate a database written before a metric existed.
  ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE run_summary DROP COLUMN goodput_rps", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(testing::RunGpufleet("simulate " + kQuickstart + " --db " + db_path).exit_code, 0);
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM run_summary WHERE goodput_rps IS NULL"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM run_summary WHERE goodput_rps > 0"), 1);
  sqlite3_close(db);
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(Cli, FailOnSloMissExitsOneAfterTheReport) {
  const std::string dir = testing::TempDir();
  std::string text = testing::kTinySweepBase;
  const std::string met = testing::WriteFile(dir, "met.yaml", text);
  auto ok = testing::RunGpufleet("simulate " + met + " --json --fail-on-slo-miss");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  text.replace(text.find("target_s: 0.5"), 13, "target_s: 1e-6");
  const std::string missed = testing::WriteFile(dir, "missed.yaml", text);
  auto gate = testing::RunGpufleet("simulate " + missed + " --fail-on-slo-miss --db " + dir + "/runs.db", /*merge_stderr=*/true);
  EXPECT_EQ(gate.exit_code, 1) << gate.output;
  EXPECT_NE(gate.output.find("SLO missed: ttft p99 is"), std::string::npos) << gate.output;
  EXPECT_NE(gate.output.find("SLO attainment"), std::string::npos) << "the report comes first: " << gate.output;
  EXPECT_NE(gate.output.find("appended to"), std::string::npos) << "and every output: " << gate.output;
  auto plain = testing::RunGpufleet("simulate " + missed + " --json");
  EXPECT_EQ(plain.exit_code, 0) << "without the flag a missed SLO is a result, not a failure";
}

}  // namespace
}  // namespace gpufleet
