// The database's single writer during a local sweep: a thread that takes finished points in the order
// they ended and, for each, tags its shard and merges it into the database (sweep_db.h) or records its
// failure, then deletes the shard and reports progress. On its own thread so that a commit's fsync never
// keeps a finished child's slot empty: the sweep loop reaps and starts the next point at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_progress.h"

namespace gpufleet {

struct FinishedPoint {
  const SweepPoint* point = nullptr;
  std::string shard;   // the child's database
  std::string err;     // the child's stderr
  bool exited_ok = false;
  std::string status;  // how it ended, for a failure's message: "exit code 2"
  double wall_s = 0;
  int running = 0;     // children still running when it ended (progress line)
};

class PointMerger {
 public:
  // `failed`: keys of this sweep with failed rows, which a success replaces.
  PointMerger(std::string db, std::string sweep_id, std::set<std::string> failed, SweepProgress* progress);
  ~PointMerger();

  void Push(FinishedPoint point);
  // False once the database refused a point: start no more.
  bool healthy() const;
  // Merges everything pushed, stops the thread; the first database error, if any.
  absl::Status Finish();

  int64_t ok() const { return ok_; }
  int64_t failed() const { return failed_count_; }

 private:
  void Loop();
  absl::Status Handle(const FinishedPoint& p);

  std::string db_, sweep_id_;
  std::set<std::string> failed_keys_;
  SweepProgress* progress_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FinishedPoint> queue_;
  bool closed_ = false;
  absl::Status error_;
  int64_t ok_ = 0, failed_count_ = 0;
  std::thread thread_;
};

// Removes a database file and its SQLite side files.
void RemoveDatabaseFiles(const std::string& path);

}  // namespace gpufleet
