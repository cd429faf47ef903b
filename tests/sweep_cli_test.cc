// `gpufleet sweep` and `gpufleet report` end to end on tiny scenarios: resume, whole points after SIGTERM,
// identical results whatever --jobs, failed points recorded, the report's table, CSV and JSON.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::QueryInt;
using testing::RunGpufleet;
using testing::TempDir;
using testing::WriteFile;

using testing::kTinySweepBase;

std::string WriteSweep(const std::string& dir, const std::string& sweep) {
  WriteFile(dir, "base.yaml", kTinySweepBase);
  return WriteFile(dir, "sweep.yaml", sweep);
}

struct Db {
  explicit Db(const std::string& path) { EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK); }
  ~Db() { sqlite3_close(db); }
  int64_t Int(const std::string& sql) { return QueryInt(db, sql); }
  sqlite3* db = nullptr;
};

// point_key -> the run's run_summary row as text.
std::map<std::string, std::string> SummariesByKey(const std::string& path) {
  Db db(path);
  std::map<std::string, std::string> out;
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.db, "SELECT p.point_key, s.* FROM sweep_points p JOIN run_summary s USING (run_id) "
                                      "WHERE p.status = 'ok'", -1, &s, nullptr), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int c = 2; c < sqlite3_column_count(s); ++c) {  // every metric, not run_id (it depends on merge order)
      const auto* t = sqlite3_column_text(s, c);
      row += std::string(sqlite3_column_name(s, c)) + "=" + (t ? reinterpret_cast<const char*>(t) : "NULL") + ";";
    }
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = row;
  }
  sqlite3_finalize(s);
  return out;
}

TEST(SweepCli, ResumeSkipsFinishedPoints) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n"
                                       "  deployment[0].max_batched_tokens: [512, 2048]\n");
  const std::string db = dir + "/out.db";
  auto first = RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("4 points: 4 run now, 0 already"), std::string::npos) << first.output;
  auto second = RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("4 points: 0 run now, 4 already"), std::string::npos) << second.output;
  Db d(db);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweep_points WHERE status = 'ok' AND run_id IN (SELECT run_id FROM runs)"), 4);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweeps"), 1);
  EXPECT_FALSE(std::filesystem::exists(db + ".work"));

  auto dry = RunGpufleet("sweep " + sweep + " --dry-run --db " + db);
  ASSERT_EQ(dry.exit_code, 0);
  EXPECT_NE(dry.output.find("4 points"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("deployment[0].replicas=2 deployment[0].max_batched_tokens=512 seed=1"), std::string::npos);
  EXPECT_EQ(dry.output.find("  no  "), std::string::npos) << dry.output;
}

TEST(SweepCli, DryRunWritesNothing) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 2, 3]\nseeds: [1, 2]\n");
  auto dry = RunGpufleet("sweep " + sweep + " --dry-run --db " + dir + "/out.db");
  ASSERT_EQ(dry.exit_code, 0);
  EXPECT_NE(dry.output.find("6 points"), std::string::npos) << dry.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.db"));
}

TEST(SweepCli, ResultsDoNotDependOnJobs) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n"
                                       "  router: [round_robin, least_outstanding_tokens]\nseeds: [1, 2]\n");
  ASSERT_EQ(RunGpufleet("sweep " + sweep + " --jobs 1 --db " + dir + "/one.db").exit_code, 0);
  ASSERT_EQ(RunGpufleet("sweep " + sweep + " --jobs 4 --db " + dir + "/four.db").exit_code, 0);
  const auto one = SummariesByKey(dir + "/one.db"), four = SummariesByKey(dir + "/four.db");
  EXPECT_EQ(one.size(), 8u);
  EXPECT_EQ(one, four);
}

TEST(SweepCli, FailedPointIsRecordedAndOthersRun) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 64, 2]\n");
  const std::string db = dir + "/out.db";
  auto r = RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("1 points failed"), std::string::npos) << r.output;
  Db d(db);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweep_points WHERE status = 'ok'"), 2);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweep_points WHERE status = 'failed' AND run_id IS NULL AND "
                  "error LIKE '%replicas%(exit code 2)'"), 1);
  auto report = RunGpufleet("report " + db);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_NE(report.output.find("0 (1 failed)"), std::string::npos) << report.output;
  // A rerun retries the failed point only.
  auto again = RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("3 points: 0 run now, 2 already"), std::string::npos) << again.output;
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweep_points WHERE status = 'failed'"), 1);
}

TEST(SweepCli, SigtermLeavesWholePointsAndARerunCompletes) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\nset: {horizon_s: 120}\naxes:\n"
                                       "  deployment[0].max_batched_tokens: {from: 256, to: 4096, step: 256}\n");
  const std::string db = dir + "/out.db";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(GPUFLEET_BINARY, GPUFLEET_BINARY, "sweep", sweep.c_str(), "--jobs", "2", "--db", db.c_str(), nullptr);
    _exit(127);
  }
  // Stop it once some points are in the database and others are running.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t merged = 0;
  while (merged < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (std::filesystem::exists(db)) {
      sqlite3* h = nullptr;
      sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
      sqlite3_busy_timeout(h, 1000);
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM sweep_points", -1, &s, nullptr) == SQLITE_OK &&
          sqlite3_step(s) == SQLITE_ROW) {
        merged = sqlite3_column_int64(s, 0);
      }
      sqlite3_finalize(s);
      sqlite3_close(h);
    }
  }
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143);
  {
    Db d(db);
    const int64_t points = d.Int("SELECT COUNT(*) FROM sweep_points");
    EXPECT_GE(points, 2);
    EXPECT_LT(points, 16) << "the sweep finished before it was stopped; make its points longer";
    // Whole points only: every point has its run and every run its point; nothing failed.
    EXPECT_EQ(d.Int("SELECT COUNT(*) FROM runs"), points);
    EXPECT_EQ(d.Int("SELECT COUNT(*) FROM sweep_points WHERE status = 'ok' AND run_id IN (SELECT run_id FROM runs)"), points);
    EXPECT_EQ(d.Int("SELECT COUNT(*) FROM run_summary"), points);
  }
  EXPECT_FALSE(std::filesystem::exists(db + ".work")) << "shards left behind";
  auto rerun = RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db, /*merge_stderr=*/true);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  Db d(db);
  EXPECT_EQ(d.Int("SELECT COUNT(*) FROM runs"), 16);
  EXPECT_EQ(d.Int("SELECT COUNT(DISTINCT point_key) FROM sweep_points WHERE status = 'ok'"), 16);
}

TEST(SweepCli, ReportAggregatesSeeds) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "name: seeds\nbase: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n"
                                       "seeds: [1, 2, 3]\n");
  const std::string db = dir + "/out.db";
  ASSERT_EQ(RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db).exit_code, 0);
  auto json = RunGpufleet("report " + db + " --sweep seeds --json --sort ttft_p99_s");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto j = nlohmann::json::parse(json.output);
  ASSERT_EQ(j["points"].size(), 2u);
  EXPECT_EQ(j["sweep"]["name"], "seeds");
  EXPECT_EQ(j["sweep"]["points"], 6);
  for (const auto& p : j["points"]) {
    EXPECT_EQ(p["runs"], 3);
    EXPECT_EQ(p["metrics"]["ttft_p99_s"]["n"], 3);
    EXPECT_GT(p["metrics"]["ttft_p99_s"]["ci95"].get<double>(), 0);
  }
  // Best (lowest p99 TTFT) first: two replicas.
  EXPECT_EQ(j["points"][0]["overrides"]["deployment[0].replicas"], 2);
  EXPECT_LE(j["points"][0]["metrics"]["ttft_p99_s"]["mean"].get<double>(),
            j["points"][1]["metrics"]["ttft_p99_s"]["mean"].get<double>());

  auto table = RunGpufleet("report " + db);
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_NE(table.output.find("replicas"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find(" ±"), std::string::npos) << table.output;
  auto csv = RunGpufleet("report " + db + " --csv");
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.output.rfind("config,deployment[0].replicas,runs,failed,meets_slos,partial,ttft_p99_s,ttft_p99_s_ci95", 0), 0u)
      << csv.output;
  EXPECT_EQ(std::count(csv.output.begin(), csv.output.end(), '\n'), 3);

  auto meets = RunGpufleet("report " + db + " --json --meets-slos");
  ASSERT_EQ(meets.exit_code, 0);
  // Named: a range-for over a member of a temporary reads freed memory (ASan, .ci/sanitize).
  const auto meets_json = nlohmann::json::parse(meets.output);
  for (const auto& p : meets_json["points"]) EXPECT_TRUE(p["meets_slos"].get<bool>());

  auto bad = RunGpufleet("report " + db + " --sort latency", /*merge_stderr=*/true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("expected one of: ttft_p99_s, tbt_p99_s"), std::string::npos) << bad.output;
  auto missing = RunGpufleet("report " + db + " --sweep nope", /*merge_stderr=*/true);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("seeds ("), std::string::npos) << missing.output;
}

TEST(SweepCli, ReportCapacityKeepsEachDesignsHighestSustainedLoad) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "name: cap\nbase: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n"
                                       "  workload.rate_multiplier: [0.5, 1]\n");
  const std::string db = dir + "/out.db";
  ASSERT_EQ(RunGpufleet("sweep " + sweep + " --jobs 2 --db " + db).exit_code, 0);
  auto cap = RunGpufleet("report " + db + " --json --capacity workload.rate_multiplier --min-attainment 0");
  ASSERT_EQ(cap.exit_code, 0) << cap.output;
  const auto j = nlohmann::json::parse(cap.output);
  ASSERT_EQ(j["points"].size(), 2u) << "one row per replica count";
  for (const auto& p : j["points"]) {
    EXPECT_TRUE(p["meets_slos"].get<bool>());
    EXPECT_EQ(p["overrides"]["workload.rate_multiplier"], 1) << "every load passes a zero attainment floor";
  }
  auto bad = RunGpufleet("report " + db + " --capacity workload.rate", /*merge_stderr=*/true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("not an axis of sweep cap"), std::string::npos) << bad.output;
  auto alone = RunGpufleet("report " + db + " --min-attainment 0.9", /*merge_stderr=*/true);
  EXPECT_EQ(alone.exit_code, 2) << alone.output;
}

TEST(SweepCli, TasksSplitTheSweepAndMergeBack) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 2, 3]\nseeds: [1, 2]\n");
  for (int task = 0; task < 2; ++task) {
    auto r = RunGpufleet("sweep " + sweep + " --tasks 2 --task " + std::to_string(task) + " --jobs 2 --db " + dir +
                         "/task" + std::to_string(task) + ".db");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("3 points: 3 run now"), std::string::npos) << r.output;
  }
  const std::string db = dir + "/all.db";
  ASSERT_EQ(RunGpufleet("merge " + db + " " + dir + "/task0.db " + dir + "/task1.db").exit_code, 0);
  auto finish = RunGpufleet("sweep " + sweep + " --db " + db);
  ASSERT_EQ(finish.exit_code, 0) << finish.output;
  EXPECT_NE(finish.output.find("6 points: 0 run now, 6 already"), std::string::npos) << finish.output;
  auto json = RunGpufleet("report " + db + " --json");
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.output)["points"].size(), 3u);
  EXPECT_EQ(RunGpufleet("sweep " + sweep + " --tasks 2 --task 2 --db " + db).exit_code, 2);
}

TEST(SweepCli, BadInputIsExit2BeforeAnyWork) {
  const std::string dir = TempDir();
  const std::string sweep = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n  zip: 3\n");
  auto r = RunGpufleet("sweep " + sweep + " --db " + dir + "/out.db", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("sweep.yaml:4:8"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.db"));

  const std::string good = WriteSweep(dir, "base: base.yaml\naxes:\n  deployment[0].replicas: [1]\n");
  auto folder = RunGpufleet("sweep " + good + " --db " + dir, /*merge_stderr=*/true);
  EXPECT_EQ(folder.exit_code, 2) << folder.output;
}

}  // namespace
}  // namespace gpufleet
