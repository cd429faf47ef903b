// `gpufleet merge DB SHARD...`: adds the runs of other gpufleet databases (sweep shards, side files kept
// when a database stayed locked) to DB, each run once (sqlite_merge.h).
#include <cstdio>

#include "sim/report/sqlite_merge.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddMergeCommand(CLI::App& app) {
  struct Flags {
    std::string target;
    std::vector<std::string> shards;
    double wait_s = 120;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("merge", "Add the runs of other gpufleet databases to one database (each run once)");
  cmd->add_option("db", f->target, "Database to merge into (created if absent)")->required();
  cmd->add_option("shards", f->shards, "Databases to merge from")->required();
  cmd->add_option("--db-wait", f->wait_s, "Seconds to keep retrying a database locked by other writers")
      ->check(CLI::Range(0.0, 86400.0))
      ->default_val(120);
  return [f]() -> int {
    int64_t added = 0, present = 0;
    for (const std::string& shard : f->shards) {
      auto counts = MergeRunDatabase(f->target, shard, f->wait_s);
      if (!counts.ok()) {
        std::fprintf(stderr, "gpufleet: %lld runs merged before the error; rerunning the merge is safe\n",
                     static_cast<long long>(added));
        return ReportError(counts.status());
      }
      std::fprintf(stderr, "gpufleet: %s: %lld runs added, %lld already in %s\n", shard.c_str(),
                   static_cast<long long>(counts->added), static_cast<long long>(counts->present), f->target.c_str());
      added += counts->added;
      present += counts->present;
    }
    std::printf("%lld runs added to %s (%lld already there)\n", static_cast<long long>(added), f->target.c_str(),
                static_cast<long long>(present));
    return 0;
  };
}

}  // namespace gpufleet
