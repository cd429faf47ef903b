// `gpufleet sweep --backend slurm`: the batch scripts it writes and submits, run end to end by a fake sbatch
// (which runs them at once, here), the flag checks, and a real single-host Slurm cluster
// (tools/slurm/test-cluster.sh; skipped where its daemons cannot start). Each checks that the merged
// database holds the same runs as a local sweep.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::CommandResult;
using testing::kFakeSbatch;
using testing::QueryInt;
using testing::TempDir;
using testing::WriteExecutable;
using testing::WriteFile;

using testing::kTinySweepBase;
constexpr const char* kSweep = "name: tiny\nbase: base.yaml\naxes:\n  deployment[0].replicas: [1, 2]\n"
                               "  deployment[0].max_batched_tokens: [512, 2048]\n";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs gpufleet with `env` (NAME=VALUE ...) added to its environment; stdout and stderr together.
CommandResult RunEnv(const std::string& env, const std::string& args) {
  return testing::RunShell("env " + env + " " + GPUFLEET_BINARY + " " + args + " 2>&1");
}

// point_key -> the run's run_summary row as text (not run_id, which depends on merge order).
std::map<std::string, std::string> SummariesByKey(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::map<std::string, std::string> out;
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT p.point_key, s.* FROM sweep_points p JOIN run_summary s USING (run_id) "
                                   "WHERE p.status = 'ok'", -1, &s, nullptr), SQLITE_OK);
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int c = 2; c < sqlite3_column_count(s); ++c) {
      const auto* t = sqlite3_column_text(s, c);
      row += std::string(sqlite3_column_name(s, c)) + "=" + (t ? reinterpret_cast<const char*>(t) : "NULL") + ";";
    }
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = row;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

int64_t Count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const int64_t v = QueryInt(db, sql);
  sqlite3_close(db);
  return v;
}

// The local --jobs 1 run every backend must match.
std::map<std::string, std::string> LocalReference(const std::string& dir, const std::string& sweep) {
  const CommandResult r = RunEnv("", "sweep " + sweep + " --jobs 1 --db " + dir + "/local.db");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return SummariesByKey(dir + "/local.db");
}

TEST(SweepSlurm, FakeSbatchRunsTheScriptsEndToEnd) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", kTinySweepBase);
  const std::string sweep = WriteFile(dir, "sweep.yaml", kSweep);
  const std::string bin = dir + "/bin";
  std::filesystem::create_directories(bin);
  WriteExecutable(bin, "sbatch", kFakeSbatch);
  WriteExecutable(bin, "squeue", "#!/bin/sh\nexit 0\n");  // the merge job has left the queue
  const std::string env = "PATH=" + bin + ":" + std::getenv("PATH");
  const std::string db = dir + "/out.db";

  const CommandResult r =
      RunEnv(env, "sweep " + sweep + " --backend slurm --partition debug --max-concurrent 2 --wait --db " + db);
  ASSERT_EQ(r.exit_code, 0) << r.output << ReadAll(bin + "/job-1002.out");
  EXPECT_NE(r.output.find("4 points in 4 array tasks: job array 1001 (tasks 0-3, 2 at once), merge job 1002"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("squeue -j 1001,1002"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("merge job 1002: exit code 0"), std::string::npos) << r.output;

  const std::string shards = db + ".slurm";
  const std::string array = ReadAll(shards + "/array.sbatch");
  EXPECT_NE(array.find("#SBATCH --array=0-3%2\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --partition=debug\n"), std::string::npos) << array;
  EXPECT_NE(array.find("#SBATCH --output=" + shards + "/task-%a.log\n"), std::string::npos) << array;
  EXPECT_NE(array.find(std::string("exec '") + GPUFLEET_BINARY + "' sweep '" + sweep +
                       "' --tasks 4 --task \"$SLURM_ARRAY_TASK_ID\" --jobs 1 --db '" + shards +
                       "'/shard-\"$SLURM_ARRAY_TASK_ID\".db"),
            std::string::npos) << array;
  const std::string merge = ReadAll(shards + "/merge.sbatch");
  EXPECT_NE(merge.find("merge '" + db + "' \"${shards[@]}\""), std::string::npos) << merge;
  EXPECT_NE(merge.find("sweep '" + sweep + "' --db '" + db + "'"), std::string::npos) << merge;
  EXPECT_EQ(ReadAll(bin + "/sbatch.args"), "--parsable " + shards + "/array.sbatch\n--parsable --dependency=afterany:1001 " +
                                               shards + "/merge.sbatch\n");

  // Every point ran in its array task (the merge job ran none) and the shards are gone once merged.
  for (int i = 0; i < 4; ++i) EXPECT_NE(ReadAll(bin + "/task-" + std::to_string(i) + ".out").find("1 points: 1 run now"), std::string::npos);
  EXPECT_NE(ReadAll(bin + "/job-1002.out").find("4 points: 0 run now, 4 already"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(shards + "/shard-0.db"));
  EXPECT_EQ(ReadAll(shards + "/merge.rc"), "0\n");
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM sweeps"), 1);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(SummariesByKey(db), LocalReference(dir, sweep));

  // Complete: nothing is submitted again.
  const CommandResult again = RunEnv(env, "sweep " + sweep + " --backend slurm --db " + db);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("all already in"), std::string::npos) << again.output;
  EXPECT_EQ(ReadAll(bin + "/next-id"), "1002\n");
}

TEST(SweepSlurm, BadFlagsAreExit2) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", kTinySweepBase);
  const std::string sweep = WriteFile(dir, "sweep.yaml", kSweep);
  const std::string db = " --db " + dir + "/out.db";
  struct Case {
    std::string env, args, message;
  };
  const std::string fake = dir + "/bin";
  std::filesystem::create_directories(fake);
  WriteExecutable(fake, "sbatch", "#!/bin/sh\necho should not run >&2\nexit 1\n");
  const std::string with_fake = "PATH=" + fake + ":" + std::getenv("PATH");
  std::filesystem::create_directories(dir + "/out.db.slurm");
  WriteFile(dir + "/out.db.slurm", "shard-3.db", "");
  for (const Case& c : std::vector<Case>{
           {"", "--partition debug", "--partition needs --backend slurm"},
           {"", "--wait", "--wait needs --backend slurm"},
           {"", "--backend pbs", "--backend: pbs not in {local,slurm}"},
           {with_fake, "--backend slurm --jobs 2", "--jobs does not apply to --backend slurm"},
           {with_fake, "--backend slurm --task 1 --tasks 2", "--task does not apply to --backend slurm"},
           {"PATH=/nonexistent", "--backend slurm", "sbatch not found on PATH"},
           {with_fake, "--backend slurm", "holds shards of an earlier submission"},
       }) {
    const CommandResult r = RunEnv(c.env, "sweep " + sweep + " " + c.args + db);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << ": " << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.db.slurm/array.sbatch"));
}

// Stops the test cluster however the test ends.
struct Cluster {
  std::string dir;
  ~Cluster() {
    if (!dir.empty()) std::system((std::string(GPUFLEET_SOURCE_DIR) + "/tools/slurm/test-cluster.sh stop " + dir).c_str());
  }
};

TEST(SweepSlurm, RealSingleHostCluster) {
  const std::string dir = TempDir();
  Cluster cluster;
  const std::string start = std::string(GPUFLEET_SOURCE_DIR) + "/tools/slurm/test-cluster.sh start " + dir + "/cluster 2>&1";
  CommandResult started;
  if (FILE* p = popen(start.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) started.output.append(buf, n);
    const int status = pclose(p);
    started.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  cluster.dir = dir + "/cluster";
  if (started.exit_code != 0) {
    GTEST_SKIP() << "no single-host Slurm cluster (tools/slurm/test-cluster.sh: needs root and Debian's slurmctld, "
                    "slurmd, slurm-client and munge): " << started.output;
  }
  WriteFile(dir, "base.yaml", kTinySweepBase);
  const std::string sweep = WriteFile(dir, "sweep.yaml", kSweep);
  const std::string db = dir + "/out.db";
  const CommandResult r = RunEnv("SLURM_CONF=" + dir + "/cluster/slurm.conf",
                              "sweep " + sweep + " --backend slurm --partition debug --max-concurrent 2 --wait --db " + db);
  ASSERT_EQ(r.exit_code, 0) << r.output << ReadAll(db + ".slurm/merge.log");
  EXPECT_NE(r.output.find("merge job"), std::string::npos) << r.output;
  // The array ran every point: the merge job found them all.
  EXPECT_NE(ReadAll(db + ".slurm/merge.log").find("4 points: 0 run now, 4 already"), std::string::npos)
      << ReadAll(db + ".slurm/merge.log");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(std::filesystem::exists(db + ".slurm/task-" + std::to_string(i) + ".log"));
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM sweeps"), 1);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM runs"), 4);
  EXPECT_EQ(SummariesByKey(db), LocalReference(dir, sweep));
}

}  // namespace
}  // namespace gpufleet
