// `gpufleet plan --backend slurm`: every batch of simulations as a job array, run end to end by the fake
// sbatch of test_util.h (which runs the tasks at once, as `sbatch --wait` returns once they have ended). The
// plan must come out as the local one does, recorded runs must reach the database through their shards, and
// bad flags are refused before anything is written.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::CommandResult;
using testing::TempDir;
using testing::WriteExecutable;
using testing::WriteFile;

namespace fs = std::filesystem;

constexpr const char* kPlan = R"(base: base.yaml
rates: [2]
candidates: {gpus: [H100-SXM-80GB], max_batched_tokens: [4096], scheduler: vllm, max_batch_size: 1}
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// gpufleet with `env` (NAME=VALUE ...) added to its environment, run in `cwd`; stdout only, or stdout and
// stderr together.
CommandResult RunIn(const std::string& cwd, const std::string& env, const std::string& args, bool merge_stderr) {
  return testing::RunShell("cd " + cwd + " && env " + env + " " + GPUFLEET_BINARY + " " + args +
                           (merge_stderr ? " 2>&1" : " 2>/dev/null"));
}

int64_t Count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const int64_t v = testing::QueryInt(db, sql);
  sqlite3_close(db);
  return v;
}

std::string FakeSbatchPath(const std::string& dir) {
  const std::string bin = dir + "/bin";
  fs::create_directories(bin);
  WriteExecutable(bin, "sbatch", testing::kFakeSbatch);
  return "PATH=" + bin + ":" + std::getenv("PATH");
}

TEST(PlanSlurm, FakeSbatchGivesTheLocalPlan) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", testing::kMd1Base);
  const std::string plan = WriteFile(dir, "plan.yaml", kPlan);
  const std::string env = FakeSbatchPath(dir);

  const CommandResult local = RunIn(dir, "", "plan " + plan + " --json", false);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const CommandResult slurm =
      RunIn(dir, env, "plan " + plan + " --json --backend slurm --partition debug --max-concurrent 2", true);
  ASSERT_EQ(slurm.exit_code, 0) << slurm.output;
  const auto a = nlohmann::json::parse(local.output);
  const auto b = nlohmann::json::parse(slurm.output.substr(slurm.output.find("{\n")));
  EXPECT_EQ(b["capacity"], a["capacity"]);
  EXPECT_EQ(b["rates"], a["rates"]);
  EXPECT_EQ(b["simulations"], a["simulations"]);
  EXPECT_EQ(b["rates"][0]["best"]["fleet"][0]["replicas"], 2);

  // The default folder: NAME.plan-slurm in the current directory, one batch folder per round, numbered from 0.
  const std::string sd = dir + "/plan.plan-slurm";
  ASSERT_TRUE(fs::exists(sd + "/batch-0")) << slurm.output;
  EXPECT_FALSE(fs::exists(sd + "/in-use")) << "released at the end";
  int batches = 0;
  while (fs::exists(sd + "/batch-" + std::to_string(batches))) ++batches;
  const std::string args = ReadAll(dir + "/bin/sbatch.args");
  EXPECT_EQ(std::count(args.begin(), args.end(), '\n'), batches) << args;
  EXPECT_NE(args.find("--parsable --wait " + sd + "/batch-0/array.sbatch\n"), std::string::npos) << args;
  const std::string script = ReadAll(sd + "/batch-0/array.sbatch");
  EXPECT_NE(script.find("#SBATCH --job-name=gpufleet-plan-plan\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --partition=debug\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --output=" + sd + "/batch-0/task-%a.log\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --chdir=" + dir + "\n"), std::string::npos) << script;
  EXPECT_NE(script.find("%2\n"), std::string::npos) << script;
  const std::string commands = ReadAll(sd + "/batch-0/commands");
  EXPECT_EQ(commands.rfind(std::string("'") + GPUFLEET_BINARY + "' 'simulate' ", 0), 0u) << commands;
  EXPECT_NE(ReadAll(sd + "/batch-0/rc-0"), "");
  EXPECT_NE(ReadAll(sd + "/batch-0/out-0.json").find("\"slos\""), std::string::npos);

  // Again, into the same folder: the earlier run's batches are replaced, and the answer is the same.
  const CommandResult again =
      RunIn(dir, env, "plan " + plan + " --json --backend slurm --slurm-dir plan.plan-slurm", false);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(nlohmann::json::parse(again.output)["rates"], a["rates"]);
}

TEST(PlanSlurm, RecordedRunsAreMergedIntoTheDatabase) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", testing::kMd1Base);
  const std::string plan = WriteFile(dir, "plan.yaml", kPlan);
  const std::string env = FakeSbatchPath(dir);
  const CommandResult local = RunIn(dir, "", "plan " + plan + " --json --db " + dir + "/local.db", false);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const CommandResult slurm = RunIn(dir, env, "plan " + plan + " --json --backend slurm --slurm-dir " + dir +
                                                  "/s --db " + dir + "/slurm.db", true);
  ASSERT_EQ(slurm.exit_code, 0) << slurm.output;
  const std::string db = dir + "/slurm.db";
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM plans"), 1);
  const int64_t runs = Count(db, "SELECT COUNT(*) FROM runs");
  EXPECT_GE(runs, 1);
  EXPECT_EQ(runs, Count(dir + "/local.db", "SELECT COUNT(*) FROM runs"));
  // The verification runs went through their shards, which are gone once merged.
  bool recorded = false;
  for (int b = 0; fs::exists(dir + "/s/batch-" + std::to_string(b)); ++b) {
    const std::string c = ReadAll(dir + "/s/batch-" + std::to_string(b) + "/commands");
    const std::string shard = dir + "/s/batch-" + std::to_string(b) + "/shard-0.db";
    recorded |= c.find("'--db' '" + shard + "'") != std::string::npos;
    for (const auto& e : fs::directory_iterator(dir + "/s/batch-" + std::to_string(b)))
      EXPECT_NE(e.path().extension(), ".db") << e.path();
  }
  EXPECT_TRUE(recorded);
}

TEST(PlanSlurm, AnInterruptCancelsTheArray) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", testing::kMd1Base);
  const std::string plan = WriteFile(dir, "plan.yaml", kPlan);
  const std::string bin = dir + "/bin";
  fs::create_directories(bin);
  // A job that stays queued: sbatch --wait prints its id and waits; scancel records what it cancels.
  WriteExecutable(bin, "sbatch",
                  "#!/bin/bash\necho \"$*\" >> \"$(dirname \"$0\")/sbatch.args\"\necho 4242\nexec sleep 60\n");
  WriteExecutable(bin, "scancel", "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/scancel.args\"\n");
  const CommandResult r = testing::RunShell(
      "cd " + dir + " && (PATH=" + bin + ":$PATH " + GPUFLEET_BINARY + " plan " + plan +
      " --backend slurm 2>&1 & p=$!; for i in $(seq 100); do [ -f " + bin + "/sbatch.args ] && break; sleep 0.1; done; "
      "sleep 0.5; kill -INT $p; wait $p; echo \"rc=$?\")");
  EXPECT_NE(r.output.find("stopped by a signal; cancelled the job array 4242"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rc=1"), std::string::npos) << r.output;
  EXPECT_EQ(ReadAll(bin + "/scancel.args"), "4242\n");
  EXPECT_FALSE(fs::exists(dir + "/plan.plan-slurm/in-use"));
}

// Stops the test cluster however the test ends.
struct Cluster {
  std::string dir;
  ~Cluster() {
    if (dir.empty()) return;
    std::system((std::string(GPUFLEET_SOURCE_DIR) + "/tools/slurm/test-cluster.sh stop " + dir).c_str());
  }
};

// A real single-host Slurm cluster (tools/slurm/test-cluster.sh; skipped where its daemons cannot start), on
// ports of its own so that it can run beside SweepSlurm.RealSingleHostCluster.
TEST(PlanSlurm, RealSingleHostCluster) {
  const std::string dir = TempDir();
  Cluster cluster;
  const CommandResult started = testing::RunShell("SLURM_TEST_PORT=16837 " + std::string(GPUFLEET_SOURCE_DIR) +
                                                  "/tools/slurm/test-cluster.sh start " + dir + "/cluster 2>&1");
  cluster.dir = dir + "/cluster";
  if (started.exit_code != 0) {
    GTEST_SKIP() << "no single-host Slurm cluster (tools/slurm/test-cluster.sh: needs root and Debian's slurmctld, "
                    "slurmd, slurm-client and munge): " << started.output;
  }
  WriteFile(dir, "base.yaml", testing::kMd1Base);
  const std::string plan = WriteFile(dir, "plan.yaml", kPlan);
  const CommandResult local = RunIn(dir, "", "plan " + plan + " --json --db " + dir + "/local.db", false);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const CommandResult slurm = RunIn(dir, "SLURM_CONF=" + dir + "/cluster/slurm.conf",
                                    "plan " + plan + " --json --backend slurm --partition debug --max-concurrent 2 "
                                    "--db " + dir + "/slurm.db", false);
  ASSERT_EQ(slurm.exit_code, 0) << slurm.output << ReadAll(dir + "/plan.plan-slurm/batch-0/task-0.log");
  const auto a = nlohmann::json::parse(local.output);
  const auto b = nlohmann::json::parse(slurm.output);
  EXPECT_EQ(b["capacity"], a["capacity"]);
  EXPECT_EQ(b["rates"], a["rates"]);
  EXPECT_TRUE(fs::exists(dir + "/plan.plan-slurm/batch-0/task-0.log"));
  EXPECT_EQ(Count(dir + "/slurm.db", "SELECT COUNT(*) FROM runs"),
            Count(dir + "/local.db", "SELECT COUNT(*) FROM runs"));
}

TEST(PlanSlurm, BadFlagsAreExit2) {
  const std::string dir = TempDir();
  WriteFile(dir, "base.yaml", testing::kMd1Base);
  const std::string plan = WriteFile(dir, "plan.yaml", kPlan);
  const std::string env = FakeSbatchPath(dir);
  // A folder held by a live plan on this host (pid 1 never exits).
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  fs::create_directories(dir + "/held");
  WriteFile(dir + "/held", "in-use", std::string(host) + " 1\n");
  struct Case {
    std::string env, args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "plan " + plan + " --partition debug", "--partition needs --backend slurm"},
           {"", "plan " + plan + " --slurm-dir x", "--slurm-dir needs --backend slurm"},
           {"", "plan " + plan + " --max-concurrent 2", "--max-concurrent needs --backend slurm"},
           {"", "plan " + plan + " --backend pbs", "--backend: pbs not in {local,slurm}"},
           {env, "plan " + plan + " --backend slurm -j 4", "--jobs does not apply to --backend slurm"},
           {env, "plan --melange-json " + dir + "/m.json --backend slurm", "--melange-json simulates nothing"},
           {"PATH=/nonexistent", "plan " + plan + " --backend slurm", "sbatch not found on PATH"},
           {env, "plan " + plan + " --backend slurm --slurm-dir held", "is in use by another gpufleet plan"},
       }) {
    const CommandResult r = RunIn(dir, c.env, c.args, true);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << ": " << r.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/plan.plan-slurm"));
  EXPECT_FALSE(fs::exists(dir + "/held/batch-0"));
  EXPECT_FALSE(fs::exists(dir + "/bin/sbatch.args"));
}

}  // namespace
}  // namespace gpufleet
