// `gpufleet merge DB SHARD...`: copies the runs of other gpufleet databases (sweep shards, the side files a
// run writes when its database stayed locked) into one. A run is identified by runs.run_uid, so merging is
// idempotent: a run already present is skipped, whatever its run_id. Each shard goes in one transaction.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace gpufleet {

struct MergeCounts {
  int64_t added = 0;    // runs copied
  int64_t present = 0;  // runs skipped: already in the target
};

// Merges `shard` into `target` (created if absent). Bad input (a shard or target that is no gpufleet
// database, or of a newer schema) is InvalidArgument naming the file; a locked target is retried for up to
// `wait_s` and then Unavailable.
absl::StatusOr<MergeCounts> MergeRunDatabase(const std::string& target, const std::string& shard, double wait_s);

}  // namespace gpufleet
