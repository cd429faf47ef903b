// See point_merger.h.
#include "orchestration/point_merger.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "orchestration/sweep_db.h"
#include "sim/report/sqlite_merge.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

// The last non-empty line of a child's stderr (its error message), without the "gpufleet: error: " lead.
std::string LastLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  if (absl::StartsWith(last, "gpufleet: error: ")) last = last.substr(17);
  return last.size() > 1000 ? last.substr(0, 1000) : last;
}

}  // namespace

void RemoveDatabaseFiles(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
}

PointMerger::PointMerger(std::string db, std::string sweep_id, std::set<std::string> failed, SweepProgress* progress)
    : db_(std::move(db)), sweep_id_(std::move(sweep_id)), failed_keys_(std::move(failed)), progress_(progress),
      thread_([this] { Loop(); }) {}

PointMerger::~PointMerger() {
  if (thread_.joinable()) (void)Finish();
}

void PointMerger::Push(FinishedPoint point) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(point));
  }
  cv_.notify_one();
}

bool PointMerger::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_.ok();
}

absl::Status PointMerger::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_one();
  thread_.join();
  return error_;
}

void PointMerger::Loop() {
  // Signals are the sweep loop's business (child_processes.h): its wait must be the one they interrupt.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  while (true) {
    FinishedPoint p;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) return;
      p = std::move(queue_.front());
      queue_.pop_front();
      if (!error_.ok()) {  // the database is refusing points: leave the rest for the next run
        RemoveDatabaseFiles(p.shard);
        continue;
      }
    }
    absl::Status st = Handle(p);
    RemoveDatabaseFiles(p.shard);
    std::error_code ec;
    std::filesystem::remove(p.err, ec);
    if (!st.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = st;
    }
  }
}

absl::Status PointMerger::Handle(const FinishedPoint& p) {
  const std::string now = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  std::string error;
  if (p.exited_ok) {
    if (absl::Status st = TagShard(p.shard, sweep_id_, *p.point, p.wall_s, now); !st.ok()) {
      error = absl::StrCat("its run could not be read back: ", st.message());
    } else {
      auto merged = MergeRunDatabase(db_, p.shard, 120);
      if (!merged.ok()) return merged.status();
      if (failed_keys_.count(p.point->key) > 0) {
        if (absl::Status cleared = ClearFailures(db_, sweep_id_, p.point->key); !cleared.ok()) return cleared;
      }
    }
  } else {
    error = p.status;
    if (const std::string last = LastLine(p.err); !last.empty()) error = absl::StrCat(last, " (", p.status, ")");
  }
  if (!error.empty()) {
    if (absl::Status st = RecordFailure(db_, sweep_id_, *p.point, error, p.wall_s, now); !st.ok()) return st;
    ++failed_count_;
  } else {
    ++ok_;
  }
  progress_->Finished(*p.point, error.empty(), p.wall_s, error, p.running);
  return absl::OkStatus();
}

}  // namespace gpufleet
