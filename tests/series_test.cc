// The run's time series (--series-interval): sums against the run totals, exact intervals on a
// hand-checkable run, and the CLI (JSON unchanged, flag checks, CSV, SQLite). Each TEST that simulates in
// this process runs its own SimGrid engine, so ctest runs each in its own process.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/power_model.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/series.h"
#include "sim/metrics/summary.h"
#include "sim/report/sqlite_db.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

// A run with the series it recorded, read back from its spool.
struct RunWithSeriesResult : RunResult {
  std::vector<SeriesSample> series;
};

absl::StatusOr<RunWithSeriesResult> RunWithSeries(const std::string& text, double interval_s, Scenario* out,
                                                  const std::string& dir = ".") {
  auto s = LoadScenarioFromString(text, "series.yaml", dir, RealCatalog());
  if (!s.ok()) return s.status();
  *out = *s;
  auto spool = SeriesSpool::Create("time series");
  if (!spool.ok()) return spool.status();
  RunOptions options;
  options.progress = false;
  options.series_interval_s = interval_s;
  options.series = spool->get();
  auto run = RunSimulation(*s, RealCatalog(), options);
  if (!run.ok()) return run.status();
  auto series = (*spool)->ReadAll();
  if (!series.ok()) return series.status();
  RunWithSeriesResult result{std::move(*run), std::move(*series)};
  if (result.series_samples != static_cast<int64_t>(result.series.size())) {
    return absl::InternalError("series_samples disagrees with the spool");
  }
  return result;
}

// Bursty arrivals that exhaust the KV cache of three of the node's eight GPUs (five stay unused).
using testing::kKvPressureScenario;

// Samples of a run of `duration_s` every `interval_s`: those strictly before the end, then the end.
int64_t SampleCount(double duration_s, double interval_s) {
  int64_t k = 1;
  while (static_cast<double>(k) * interval_s < duration_s) ++k;
  return k;
}

TEST(SeriesEngine, SamplesAddUpToTheRunTotals) {
  Scenario scenario;
  auto run = RunWithSeries(kKvPressureScenario, 0.7, &scenario);  // 0.7 s: no sample time falls on a whole second
  ASSERT_TRUE(run.ok()) << run.status();
  const size_t n = run->replicas.size();
  ASSERT_EQ(n, 3u);
  ASSERT_FALSE(run->series.empty());
  ASSERT_EQ(run->series.size() % (n + 1), 0u);
  const GpuSpec& l4 = *RealCatalog().FindGpu("L4");

  struct Sums {
    double busy_s = 0;
    int64_t output_tokens = 0, completed = 0, arrivals = 0;
    double last_t = -1;
  };
  std::map<int, Sums> sums;  // by replica, -1 the fleet
  double fleet_energy_j = 0, fleet_gpu_busy_s = 0, prev_t = 0;
  int64_t max_waiting = 0;
  for (size_t row = 0; row < run->series.size(); row += n + 1) {
    const SeriesSample& fleet = run->series[row];
    ASSERT_EQ(fleet.replica, -1);
    const double interval = fleet.t_s - prev_t;
    SeriesSample total;
    for (size_t i = 0; i < n; ++i) {
      const SeriesSample& s = run->series[row + 1 + i];
      ASSERT_EQ(s.replica, static_cast<int>(i));
      ASSERT_EQ(s.t_s, fleet.t_s);
      EXPECT_LE(s.kv_used_blocks, s.kv_total_blocks);
      EXPECT_EQ(s.kv_total_blocks, run->replicas[i].stats.kv_blocks_total);
      EXPECT_GE(s.busy_s, 0);
      EXPECT_LE(s.busy_s, interval * (1 + 1e-9)) << "a straddling iteration must be split at the sample time";
      EXPECT_GE(s.power_w, l4.idle_w * (1 - 1e-12));
      EXPECT_LE(s.power_w, l4.tdp_w * (1 + 1e-9));
      total.waiting += s.waiting;
      total.running += s.running;
      total.kv_used_blocks += s.kv_used_blocks;
      total.busy_s += s.busy_s;
      total.power_w += s.power_w;
      max_waiting = std::max(max_waiting, s.waiting);
    }
    EXPECT_EQ(fleet.waiting, total.waiting);
    EXPECT_EQ(fleet.running, total.running);
    EXPECT_EQ(fleet.kv_used_blocks, total.kv_used_blocks);
    EXPECT_NEAR(fleet.busy_s, total.busy_s, 1e-9);
    EXPECT_NEAR(fleet.power_w, total.power_w + 5 * l4.idle_w, 1e-6);  // five GPUs without a replica
    for (size_t i = 0; i <= n; ++i) {
      const SeriesSample& s = run->series[row + i];
      Sums& sum = sums[s.replica];
      EXPECT_GT(s.t_s, sum.last_t) << "replica " << s.replica;
      sum.last_t = s.t_s;
      sum.busy_s += s.busy_s;
      sum.output_tokens += s.output_tokens;
      sum.completed += s.completed;
      sum.arrivals += s.arrivals;
    }
    fleet_energy_j += fleet.power_w * interval;
    fleet_gpu_busy_s += fleet.util * interval * 3;
    prev_t = fleet.t_s;
  }
  EXPECT_GT(max_waiting, 0) << "the scenario is meant to queue requests";
  EXPECT_EQ(sums[-1].last_t, run->end_s);
  EXPECT_EQ(run->series.size() / (n + 1), static_cast<size_t>(SampleCount(run->end_s, 0.7)));

  const int64_t completed = run->log.completed(), output_tokens = run->log.output_tokens();
  EXPECT_EQ(sums[-1].arrivals, run->arrived);
  EXPECT_EQ(sums[-1].completed, completed);
  EXPECT_EQ(sums[-1].output_tokens, output_tokens);
  for (const ReplicaResult& r : run->replicas) {
    const Sums& sum = sums[r.replica];
    EXPECT_NEAR(sum.busy_s, r.stats.busy_s, 1e-9 * r.stats.busy_s) << "replica " << r.replica;
    EXPECT_EQ(sum.output_tokens, r.stats.output_tokens) << "replica " << r.replica;
    EXPECT_EQ(sum.completed, r.stats.completed) << "replica " << r.replica;
    EXPECT_EQ(sum.arrivals, r.stats.requests) << "replica " << r.replica;
  }
  // The fleet rows' time averages are the summary's figures.
  const RunSummary summary = Summarize(scenario, RealCatalog(), *run);
  EXPECT_NEAR(fleet_energy_j / run->end_s, summary.mean_power_w, 1e-9 * summary.mean_power_w);
  EXPECT_NEAR(fleet_gpu_busy_s / (3 * run->end_s), summary.gpu_util_deployed_mean, 1e-9);
}

// One request on one replica with a constant 1 s iteration: arrives at 0.5 and runs three iterations,
// [0.5, 1.5] (prompt, first token), [1.5, 2.5] and [2.5, 3.5] (completes). Sampled every 0.5 s, each
// iteration straddles a sample time; the arrival and the completion fall exactly on sample times.
TEST(SeriesEngine, IntervalsSplitIterationsAndOwnTheEventsAtTheirEnd) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "one.csv", "arrival_s,prompt_tokens,output_tokens\n0.5,16,3\n");
  const std::string text = R"(seed: 1
cluster: {nodes: [{type: aws-g6.xlarge, count: 1}]}
model: Llama-2-7B
perf_model: {type: constant, iteration_s: 1.0}
deployment: [{gpu: L4, replicas: 1}]
workload: {trace: {path: one.csv, format: native}}
)";
  Scenario scenario;
  auto run = RunWithSeries(text, 0.5, &scenario, dir);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->end_s, 3.5);
  const GpuSpec& l4 = *RealCatalog().FindGpu("L4");
  struct Expected {
    double t_s;
    int64_t running, output_tokens, completed, arrivals;
    double busy_s;
  };
  // The last sample is the end of the run, 7 x 0.5: it appears once.
  const std::vector<Expected> expected = {
      {0.5, 1, 0, 0, 1, 0.0}, {1.0, 1, 0, 0, 0, 0.5}, {1.5, 1, 1, 0, 0, 0.5}, {2.0, 1, 0, 0, 0, 0.5},
      {2.5, 1, 1, 0, 0, 0.5}, {3.0, 1, 0, 0, 0, 0.5}, {3.5, 0, 1, 1, 0, 0.5},
  };
  ASSERT_EQ(run->series.size(), 2 * expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    const Expected& e = expected[k];
    for (int row = 0; row < 2; ++row) {
      const SeriesSample& s = run->series[2 * k + row];
      SCOPED_TRACE(::testing::PrintToString(e.t_s) + " replica " + std::to_string(s.replica));
      EXPECT_EQ(s.replica, row - 1);
      EXPECT_EQ(s.t_s, e.t_s);
      EXPECT_EQ(s.waiting, 0);
      EXPECT_EQ(s.running, e.running);
      EXPECT_EQ(s.kv_used_blocks > 0, e.running > 0);
      EXPECT_EQ(s.output_tokens, e.output_tokens);
      EXPECT_EQ(s.completed, e.completed);
      EXPECT_EQ(s.arrivals, e.arrivals);
      EXPECT_DOUBLE_EQ(s.busy_s, e.busy_s);
      EXPECT_DOUBLE_EQ(s.util, e.busy_s / 0.5);
      // A constant perf model knows no activity: an iteration draws activity power plus half the dynamic range.
      const GpuPowerParams p = DerivedPowerParams(l4);
      const double busy_w = p.idle_w + p.active_w + 0.5 * (p.tdp_w - p.idle_w - p.active_w);
      EXPECT_NEAR(s.power_w, l4.idle_w + (busy_w - l4.idle_w) * e.busy_s / 0.5, 1e-9);
    }
  }
}

// --- The CLI ---

using testing::kQuickstart;
using testing::QueryInt;



TEST(SeriesCli, JsonIsByteIdenticalWithAndWithoutSeries) {
  const std::string dir = testing::TempDir();
  auto plain = testing::RunGpufleet("simulate " + kQuickstart + " --json");
  const std::string run = "simulate " + kQuickstart + " --json --series-interval ";
  auto with = testing::RunGpufleet(run + "10 --series-csv " + dir + "/x.csv");
  auto fine = testing::RunGpufleet(run + "0.001 --series-csv " + dir + "/y.csv --db " + dir + "/y.db");
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_EQ(with.exit_code, 0);
  ASSERT_EQ(fine.exit_code, 0);
  EXPECT_EQ(plain.output, with.output);
  EXPECT_EQ(plain.output, fine.output);
}

// A constant 0.1 s iteration from t = 0 puts iteration ends within a few ulps of whole seconds (e.g.
// 2.0000000000000004). A sampler that woke at whole seconds through SimGrid would pull those ends back
// to the sample time (SimGrid finishes actions within 1 ns of the clock together) and shift every later
// timestamp; this run guards against such a sampler.
TEST(SeriesCli, JsonUnchangedWhenSamplesNearlyCoincideWithIterationEnds) {
  const std::string dir = testing::TempDir();
  std::string trace = "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 40; ++i) trace += "0.0" + std::to_string(i / 4) + ",16,400\n";
  testing::WriteFile(dir, "burst.csv", trace);
  const std::string scenario = testing::WriteFile(dir, "burst.yaml", R"(seed: 1
cluster: {nodes: [{type: aws-g6.xlarge, count: 1}]}
model: Llama-2-7B
perf_model: {type: constant, iteration_s: 0.1}
deployment: [{gpu: L4, replicas: 1, max_batch_size: 4}]
workload: {trace: {path: burst.csv, format: native}}
)");
  auto plain = testing::RunGpufleet("simulate " + scenario + " --json");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  for (const char* interval : {"1", "0.3", "0.001"}) {
    auto with = testing::RunGpufleet("simulate " + scenario + " --json --series-interval " + interval +
                                     " --series-csv " + dir + "/x.csv");
    ASSERT_EQ(with.exit_code, 0) << interval;
    EXPECT_EQ(plain.output, with.output) << "--series-interval " << interval;
  }
}

TEST(SeriesCli, RejectsBadSeriesFlags) {
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/x.csv";
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : std::vector<Case>{
           {"--series-interval 10", "--series-interval needs somewhere to put the series: --db FILE or --series-csv"},
           {"--series-interval 0 --series-csv " + csv, "--series-interval must be a number of seconds >= 0.001, got 0"},
           {"--series-interval -5 --series-csv " + csv, "must be a number of seconds >= 0.001, got -5"},
           {"--series-interval 0.0005 --series-csv " + csv, "must be a number of seconds >= 0.001, got 0.0005"},
           {"--series-interval nan --series-csv " + csv, "must be a number of seconds >= 0.001, got nan"},
           {"--series-interval inf --db " + dir + "/x.db", "must be a number of seconds >= 0.001, got inf"},
           {"--series-csv " + csv, "--series-csv needs --series-interval SECONDS"},
           {"--series-interval 1 --series-csv " + dir + "/missing/x.csv", "missing does not exist"},
       }) {
    auto r = testing::RunGpufleet("simulate " + kQuickstart + " " + c.flags, true);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.flags << "\n" << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(csv));
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.db"));
}

TEST(SeriesCli, CsvHasTheHeaderAndOneRowPerReplicaAndSample) {
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/series.csv";
  auto r = testing::RunGpufleet("simulate " + kQuickstart + " --json --series-interval 10 --series-csv " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_FALSE(std::filesystem::exists(csv + ".tmp"));
  std::ifstream in(csv);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line,
            "t_s,replica,waiting,running,kv_used_blocks,kv_total_blocks,busy_s,util,output_tokens,completed,"
            "arrivals,power_w");
  int64_t rows = 0, arrivals = 0, output_tokens = 0;
  std::string last;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    ASSERT_EQ(f.size(), 12u) << line;
    if (f[1] == "-1") {
      arrivals += std::stoll(f[10]);
      output_tokens += std::stoll(f[8]);
    }
    last = line;
  }
  const int64_t replicas = static_cast<int64_t>(j["replicas"].size());
  EXPECT_EQ(rows, SampleCount(j["duration_s"].get<double>(), 10) * (replicas + 1));
  EXPECT_EQ(arrivals, j["requests_arrived"].get<int64_t>());
  EXPECT_EQ(output_tokens, j["output_tokens"].get<int64_t>());
  EXPECT_EQ(std::stod(last.substr(0, last.find(','))), j["duration_s"].get<double>()) << "the last sample is the end";
}

TEST(SeriesCli, FailedRunWritesNoCsv) {
  const std::string dir = testing::TempDir();
  const std::string scenario = testing::WriteScenarioWithMalformedTrace(dir);
  auto r = testing::RunGpufleet("simulate " + scenario + " --series-interval 1 --series-csv " + dir + "/x.csv", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.csv.tmp"));
}

TEST(SeriesCli, SqliteSeriesTableIsFilled) {
  const std::string dir = testing::TempDir();
  const std::string db_path = dir + "/runs.db";
  // A database from before the series table existed gains it.
  ASSERT_EQ(testing::RunGpufleet("simulate " + kQuickstart + " --db " + db_path).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE series", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto r = testing::RunGpufleet("simulate " + kQuickstart + " --json --db " + db_path + " --series-interval 10");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  const int64_t replicas = static_cast<int64_t>(j["replicas"].size());

  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(QueryInt(db, "SELECT value FROM schema_info WHERE key = 'schema_version'"), kSqliteSchemaVersion);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM series WHERE run_id = 1"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM series WHERE run_id = 2"),
            SampleCount(j["duration_s"].get<double>(), 10) * (replicas + 1));
  EXPECT_EQ(QueryInt(db, "SELECT SUM(arrivals) FROM series WHERE run_id = 2 AND replica = -1"),
            j["requests_arrived"].get<int64_t>());
  EXPECT_EQ(QueryInt(db, "SELECT SUM(output_tokens) FROM series WHERE run_id = 2 AND replica >= 0"),
            j["output_tokens"].get<int64_t>());
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM series WHERE kv_used_blocks > kv_total_blocks"), 0);
  // Replica busy time adds up to the replicas table's (rounded to the microsecond).
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM replicas r WHERE run_id = 2 AND ROUND(busy_s, 6) != "
                         "(SELECT ROUND(SUM(busy_s), 6) FROM series s WHERE s.run_id = 2 AND s.replica = r.replica)"),
            0);
  // The documented example query runs: fleet utilization per 5-minute bucket (quickstart: two buckets).
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM (SELECT CAST(prev_t / 300 AS INTEGER) * 300 AS bucket_s, "
                         "SUM(util * (t_s - prev_t)) / SUM(t_s - prev_t) AS util "
                         "FROM (SELECT t_s, util, LAG(t_s, 1, 0) OVER (ORDER BY t_s) AS prev_t FROM series "
                         "WHERE run_id = 2 AND replica = -1) GROUP BY bucket_s)"),
            2);
  sqlite3_close(db);
}

}  // namespace
}  // namespace gpufleet
