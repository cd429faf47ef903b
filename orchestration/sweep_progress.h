// What a running sweep says on stderr. On a terminal: one line redrawn as points finish (done/total,
// failures, running children, elapsed, ETA), with a permanent line for each failed point. Otherwise (a log
// file, CI): one plain line per finished point.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "orchestration/sweep_plan.h"

namespace gpufleet {

class SweepProgress {
 public:
  // `to_run` points will run now; `already` were found in the database.
  SweepProgress(std::string name, int64_t to_run, int64_t already, bool terminal);

  void Finished(const SweepPoint& point, bool ok, double wall_s, const std::string& error, int running);
  // Clears the progress line (terminal).
  void Close();

 private:
  std::string name_;
  int64_t to_run_, already_, done_ = 0, failed_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

// "deployment[0].replicas=4 deployment[0].gpu=A100-SXM-80GB seed=1".
std::string DescribePoint(const SweepPoint& point);

// "1:02:03", "4:05": elapsed and remaining times on the progress line.
std::string FormatDuration(double seconds);

}  // namespace gpufleet
