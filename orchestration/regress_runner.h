// Running `gpufleet regress`'s suite: every scenario of a folder as its own `gpufleet simulate` child
// process (simulate_jobs.h: one SimGrid engine per process, N at once, a crash takes only its scenario
// down), each writing its run into a shard database in a private work folder; the runs read back
// (regress_compare.h), and the shards merged (sqlite_merge.h) into a kept database (--db) or into a new
// baseline that replaces the old one whole (--update: written beside it, then renamed over it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/regress_compare.h"

namespace gpufleet {

struct RegressScenario {
  std::string path;  // as found in the folder (folder given by the user / file name)
  std::string name;  // its file name: what identifies it in the baseline, with the seed
  int64_t seed = 0;  // the scenario's own seed (0 when it sets none, as the loader does) or --seed
};

// The folder's *.yaml files, by name, except tolerance files (any named tolerances.yaml, and `exclude`).
// Each one's seed is read from it unless `seed` overrides it. Errors: the folder missing or holding no
// scenario, a file that is not YAML (InvalidArgument, located), a seed that is not an integer >= 0.
absl::StatusOr<std::vector<RegressScenario>> FindRegressScenarios(const std::string& dir, const std::string& exclude,
                                                                  std::optional<int64_t> seed);

struct ScenarioRun {
  RegressScenario scenario;
  std::string shard;   // its database in the work folder (empty when it failed)
  std::string error;   // non-empty when its simulation failed: how it ended and its last line of stderr
  RunMetrics metrics;  // read back from the shard
};

// A finished suite run. Owns the work folder holding the shards: it is removed with this object.
class RegressRun {
 public:
  RegressRun() = default;
  RegressRun(RegressRun&& other) noexcept;
  RegressRun& operator=(RegressRun&&) = delete;
  ~RegressRun();

  std::vector<ScenarioRun> runs;  // in the scenarios' order
  double wall_s = 0;
  bool AllOk() const;

  // Appends the runs (those that finished) to the run database `db` (created if absent), as `gpufleet
  // merge` would.
  absl::Status AppendTo(const std::string& db) const;
  // Writes a new database holding exactly these runs over `path`: it is built in the work folder, then
  // copied beside `path` and renamed over it (sim/util/atomic_file.h), so `path` is the old baseline or
  // the new one, never a mix. Refused unless every scenario succeeded.
  absl::Status ReplaceBaseline(const std::string& path) const;

  std::string work_dir;  // removed with this object
};

// Runs `scenarios` with `binary` (the gpufleet executable), `jobs` at once, reading `metrics` back from
// each run. A scenario that fails is recorded in its ScenarioRun; the error returned is for the suite as a
// whole (no work folder, a child that could not start, Cancelled on SIGINT/SIGTERM once
// InstallSweepSignalHandlers ran). `on_done(done, total)` after each scenario ends.
absl::StatusOr<RegressRun> RunRegressSuite(const std::vector<RegressScenario>& scenarios, const std::string& binary,
                                           int jobs, const std::vector<std::string>& metrics,
                                           const std::function<void(size_t, size_t)>& on_done = nullptr);

}  // namespace gpufleet
