// See regress_runner.h. The children are run by RunJobs (simulate_jobs.h), the shards merged by
// MergeRunDatabase (sqlite_merge.h): the same machinery as `gpufleet sweep` and `gpufleet plan`.
#include "orchestration/regress_runner.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "orchestration/child_processes.h"
#include "orchestration/point_merger.h"
#include "orchestration/simulate_jobs.h"
#include "sim/report/sqlite_merge.h"
#include "sim/util/atomic_file.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace fs = std::filesystem;
namespace {

constexpr double kDbWaitS = 120;  // as `gpufleet simulate --db-wait`'s default

bool SameFile(const fs::path& a, const std::string& b) {
  std::error_code ec;
  return !b.empty() && fs::equivalent(a, b, ec);
}

absl::StatusOr<int64_t> ScenarioSeed(const std::string& path) {
  auto root = LoadYamlFile(path);
  if (!root.ok()) return absl::InvalidArgumentError(root.status().message());
  if (!root->IsMap()) {
    return YamlError(path, *root, "the scenario is not a mapping", "a scenario file (docs/scenario.md)");
  }
  const YAML::Node seed = (*root)["seed"];
  if (!seed.IsDefined() || seed.IsNull()) return 0;
  return ScalarInt(path, seed, "seed", 0, std::numeric_limits<int64_t>::max());
}

std::string WhyFailed(const JobResult& r) {
  std::string line = r.error_line;
  if (absl::StartsWith(line, "gpufleet: error: ")) line = line.substr(17);
  if (line.size() > 1000) line = line.substr(0, 1000);
  return absl::StrCat(DescribeWaitStatus(r.wait_status), line.empty() ? "" : ": ", line);
}

}  // namespace

absl::StatusOr<std::vector<RegressScenario>> FindRegressScenarios(const std::string& dir, const std::string& exclude,
                                                                  std::optional<int64_t> seed) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("--scenarios ", dir, ": not a folder; expected the folder of the "
                                                   "suite's scenario files (e.g. scenarios/regress)"));
  }
  std::vector<RegressScenario> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const fs::path& p = e.path();
    if (p.extension() != ".yaml" || !e.is_regular_file(ec)) continue;
    if (p.filename() == "tolerances.yaml" || SameFile(p, exclude)) continue;
    RegressScenario s;
    s.path = (fs::path(dir) / p.filename()).string();
    s.name = p.filename().string();
    if (seed) {
      s.seed = *seed;
    } else {
      GF_ASSIGN_OR_RETURN(s.seed, ScenarioSeed(s.path));
    }
    out.push_back(std::move(s));
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--scenarios ", dir, ": cannot list: ", ec.message()));
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--scenarios ", dir, ": holds no scenario (*.yaml other than "
                                                   "tolerances.yaml)"));
  }
  std::sort(out.begin(), out.end(), [](const RegressScenario& a, const RegressScenario& b) { return a.name < b.name; });
  return out;
}

RegressRun::RegressRun(RegressRun&& other) noexcept
    : runs(std::move(other.runs)), wall_s(other.wall_s), work_dir(std::move(other.work_dir)) {
  other.work_dir.clear();
}

RegressRun::~RegressRun() {
  std::error_code ec;
  if (!work_dir.empty()) fs::remove_all(work_dir, ec);
}

bool RegressRun::AllOk() const {
  return std::all_of(runs.begin(), runs.end(), [](const ScenarioRun& r) { return r.error.empty(); });
}

absl::Status RegressRun::AppendTo(const std::string& db) const {
  for (const ScenarioRun& r : runs) {
    if (r.error.empty()) GF_RETURN_IF_ERROR(MergeRunDatabase(db, r.shard, kDbWaitS).status());
  }
  return absl::OkStatus();
}

absl::Status RegressRun::ReplaceBaseline(const std::string& path) const {
  if (!AllOk()) return absl::FailedPreconditionError("a scenario failed: the baseline was left as it was");
  const std::string merged = (fs::path(work_dir) / "baseline.db").string();
  RemoveDatabaseFiles(merged);
  GF_RETURN_IF_ERROR(AppendTo(merged));
  std::ifstream in(merged, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in || bytes.str().empty()) return absl::InternalError(absl::StrCat(merged, ": cannot read the new baseline"));
  return WriteFileAtomically(path, bytes.str());
}

absl::StatusOr<RegressRun> RunRegressSuite(const std::vector<RegressScenario>& scenarios, const std::string& binary,
                                           int jobs, const std::vector<std::string>& metrics,
                                           const std::function<void(size_t, size_t)>& on_done) {
  const auto start = std::chrono::steady_clock::now();
  RegressRun run;
  std::string tmpl = (fs::temp_directory_path() / "gpufleet-regress-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a work folder in ", fs::temp_directory_path().string()));
  }
  run.work_dir = tmpl;
  std::vector<std::vector<std::string>> args;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    ScenarioRun r;
    r.scenario = scenarios[i];
    r.shard = (fs::path(run.work_dir) / absl::StrCat(i, ".db")).string();
    // The seed is always passed: the run is then the baseline's (scenario, seed) whatever the file says.
    args.push_back({"simulate", r.scenario.path, "--json", "--no-progress", "--db", r.shard, "--seed",
                    absl::StrCat(r.scenario.seed)});
    run.runs.push_back(std::move(r));
  }
  GF_ASSIGN_OR_RETURN(std::vector<JobResult> results, RunJobs(binary, args, jobs, on_done));
  for (size_t i = 0; i < results.size(); ++i) {
    ScenarioRun& r = run.runs[i];
    if (!results[i].ok()) {
      r.error = WhyFailed(results[i]);
      r.shard.clear();
      continue;
    }
    auto index = ReadRunMetrics(r.shard, metrics);
    if (!index.ok() || index->size() != 1) {
      r.error = absl::StrCat("its run could not be read back: ",
                             index.ok() ? absl::StrCat(index->size(), " runs in ", r.shard) : index.status().message());
      r.shard.clear();
      continue;
    }
    r.metrics = std::move(index->begin()->second);
    r.metrics.scenario = r.scenario.name;  // as the baseline names it, whatever path the child was given
  }
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace gpufleet
