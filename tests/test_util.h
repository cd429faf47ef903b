// Helpers shared by the tests: the real catalog, scenario text loading, and running the CLI.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "models/catalog.h"
#include "policies/policy_registry.h"
#include "policies/routing/router.h"
#include "sim/engine/replica_state.h"
#include "sim/engine/simulation.h"
#include "sim/platform/fabric_layout.h"
#include "sim/platform/placement.h"
#include "sim/scenario/scenario_loader.h"

namespace gpufleet::testing {

inline const Catalog& RealCatalog() {
  static const Catalog* catalog = [] {
    auto c = Catalog::LoadFromDir(Catalog::DefaultDir());
    EXPECT_TRUE(c.ok()) << c.status();
    return new Catalog(std::move(*c));
  }();
  return *catalog;
}

// Applies a scheduled batch to `state` the way the replica does, without timing: tokens computed, a token
// emitted where a sequence caught up, finished sequences out of `running` with their blocks released.
inline void ApplyBatch(const std::vector<ScheduledSeq>& batch, ReplicaState* state) {
    for (const auto& b : batch) {
      b.seq->computed += b.tokens;
      if (b.seq->computed == b.seq->known_tokens()) ++b.seq->generated;
    }
    for (auto it = state->running.begin(); it != state->running.end();) {
      if ((*it)->finished()) {
        state->kv.Release(**it);
        it = state->running.erase(it);
      } else {
        ++it;
      }
    }
}

// A registered policy with default parameters, e.g. MakePolicy<Router>("round_robin").
template <class Interface>
std::unique_ptr<Interface> MakePolicy(const std::string& type) {
  PolicyConfig cfg;
  cfg.type = type;
  cfg.file = "test";
  cfg.node["type"] = type;
  auto policy = PolicyRegistry<Interface>::Get().Create(cfg);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? std::move(*policy) : nullptr;
}

// Places `groups` on `cluster` with the placement policy `policy` ("first_fit", or a flow mapping such as
// "{type: spread, over: leaves}") over `fabric`, with power racks of `rack_servers` servers (0: none).
inline absl::StatusOr<std::vector<ReplicaPlacement>> PlaceOn(const std::vector<NodeGroup>& cluster,
                                                             const std::vector<ReplicaGroup>& groups,
                                                             const FabricSpec& fabric = {},
                                                             const std::string& policy = "first_fit",
                                                             int64_t rack_servers = 0) {
  PolicyConfig cfg;
  cfg.file = "test";
  cfg.what = "placement";
  cfg.node = policy.front() == '{' ? YAML::Load(policy) : YAML::Load("{type: " + policy + "}");
  cfg.type = cfg.node["type"].Scalar();
  const ClusterLayout layout = LayoutCluster(cluster);
  const FabricLayout fabric_layout = LayoutFabric(layout, fabric);
  return PlaceReplicas({layout, fabric_layout, rack_servers, groups}, cfg);
}

// Routes one request over a fleet with these loads (loads[i].replica == i), the router's orderings built.
inline size_t RouteOn(Router& router, const TraceRequest& req, const std::vector<ReplicaLoad>& loads) {
  int groups = 0;
  for (const ReplicaLoad& l : loads) groups = std::max(groups, l.group + 1);
  FleetView view(loads, groups, router.Needs());
  return router.Route(req, view);
}

// A run in this process (one per process: SimGrid) and every request's row, in the order requests ended.
struct RunAndRows : RunResult {
  std::vector<RequestRow> rows;
};

inline absl::StatusOr<RunAndRows> SimulateWithRows(const Scenario& scenario, const Catalog& catalog) {
  auto spool = RequestSpool::Create("per-request rows");
  if (!spool.ok()) return spool.status();
  RunOptions options;
  options.progress = false;
  options.requests = spool->get();
  auto run = RunSimulation(scenario, catalog, options);
  if (!run.ok()) return run.status();
  auto rows = (*spool)->ReadAll();
  if (!rows.ok()) return rows.status();
  return RunAndRows{std::move(*run), std::move(*rows)};
}

inline std::string SharedData(const std::string& rel) { return std::string(GPUFLEET_SHARED_DATA_DIR) + "/" + rel; }
inline bool HasSharedData() { return std::filesystem::exists(SharedData("README.md")); }

inline std::string TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (std::string("gpufleet-") + info->test_suite_name() + "-" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// A scenario replaying a 51-row Azure trace whose last row (line 52) has a non-numeric token count.
inline std::string WriteScenarioWithMalformedTrace(const std::string& dir) {
  std::string trace = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (int i = 0; i < 50; ++i) trace += "2023-11-16 18:15:" + std::to_string(10 + i / 10) + ".0000000,100,10\n";
  trace += "2023-11-16 18:16:00.0000000,abc,10\n";
  WriteFile(dir, "trace.csv", trace);
  return WriteFile(dir, "s.yaml", R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 1}]
workload: {trace: {path: trace.csv, format: azure}}
)");
}

// Three L4 replicas of Llama-2-7B under bursty (gamma, CV 2) load that exhausts their KV caches.
inline constexpr const char* kKvPressureScenario = R"(seed: 3
horizon_s: 60
cluster: {nodes: [{type: aws-g6.48xlarge, count: 1}]}
model: Llama-2-7B
deployment:
  - {gpu: L4, replicas: 3, gpu_memory_utilization: 0.82, max_batch_size: 64, scheduler: vllm}
router: least_outstanding_requests
workload:
  synthetic:
    arrival: gamma
    cv: 2
    rate_rps: 6
    prompt_tokens: {dist: lognormal, median: 700, sigma: 0.9, max: 3500}
    output_tokens: {dist: lognormal, median: 250, sigma: 0.8, max: 590}
)";

inline const std::string kQuickstart = std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/quickstart.yaml";

// The first column of the first row of `sql`, or -1.
inline int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << " " << sql;
  int64_t v = -1;
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout, or stdout + stderr when merged
};

// Runs a shell command line; its stdout (and whatever the line itself redirects there) and exit code.
inline CommandResult RunShell(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the gpufleet binary with `args` (a shell fragment). stderr is merged into the output when asked.
inline CommandResult RunGpufleet(const std::string& args, bool merge_stderr = false) {
  return RunShell(std::string(GPUFLEET_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"));
}

// A base scenario for sweep tests: about 0.1 s a point, a few seconds of load on one small replica.
inline constexpr const char* kTinySweepBase = R"(seed: 1
horizon_s: 20
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 1, scheduler: sarathi, max_batched_tokens: 2048}]
router: round_robin
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: lognormal, median: 300, sigma: 0.5, max: 1000}
    output_tokens: {dist: lognormal, median: 50, sigma: 0.5, max: 200}
slos:
  ttft: {target_s: 0.5, percentile: 99}
)";

// An M/D/1 queue for plan tests: Poisson arrivals at 50 req/s, one request at a time for 10 ms each.
inline constexpr const char* kMd1Base = R"(name: md1
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

// A fake sbatch for the Slurm backends' tests (put its folder first on PATH): records its arguments in
// sbatch.args beside itself, gives job ids from 1001 up and runs the script at once, in --chdir's folder
// when it names one: every array task in turn (the --array range of the script's #SBATCH line), each with
// SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID set, its output in task-I.out beside itself. Running them at
// once is what `--wait` asks for; --parsable's id is printed at the end.
inline constexpr const char* kFakeSbatch = R"(#!/bin/bash
dir=$(dirname "$0")
echo "$*" >> "$dir/sbatch.args"
script=${!#}
id=$(( $(cat "$dir/next-id" 2>/dev/null || echo 1000) + 1 ))
echo $id > "$dir/next-id"
chdir=$(sed -n 's/^#SBATCH --chdir=//p' "$script")
if [ -n "$chdir" ]; then cd "$chdir" || exit 1; fi
last=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\).*/\1/p' "$script")
if [ -n "$last" ]; then
  for i in $(seq 0 "$last"); do
    SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$i bash "$script" > "$dir/task-$i.out" 2>&1
  done
else
  bash "$script" > "$dir/job-$id.out" 2>&1
fi
echo "$id"
)";

inline void WriteExecutable(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = WriteFile(dir, name, text);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                         std::filesystem::perms::others_exec);
}

}  // namespace gpufleet::testing
