// Plausibility checks on the arrival times of a trace file, shared by the Azure and native readers.
//
// A trace is replayed as written, so one mistyped date decides how long a run lasts: 2033 for 2023 in
// the last row of a one-hour trace makes it 3.2e8 simulated seconds, and a finite but huge time
// overflows to +inf once reshaped (superposition, rate multiplier), which SimGrid aborts on. Two rules:
//  * an arrival lies at most kMaxTraceArrivalS (1e9 s, about 31.7 years) after the trace's origin
//    (the readers check this one themselves);
//  * the gap between two consecutive rows is at most the larger of kGapFloorS (1 hour) and kGapFactor
//    (1000) x the median positive gap of the rows before it, or the scenario's
//    `workload.trace.max_gap_s` when set. The median comes from a histogram of gaps by power of two
//    (O(1) memory, rounded up to the bucket's upper edge), and is only looked at when a gap exceeds
//    the floor. The first kGapWarmupGaps gaps have no median yet: a long one among them is held and
//    judged once there are that many (or at the end of the trace, given at least 3), so a mistyped
//    first row is caught too.
// The real Azure 2023 traces stay far below the limit: their longest gaps are 217 s (code) and 4.3 s
// (conversation), against medians of 0.064 s and 0.118 s.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace gpufleet {

inline constexpr double kMaxTraceArrivalS = 1e9;
inline constexpr const char* kMaxTraceArrivalText = "1e9 s (about 31.7 years)";  // for messages
inline constexpr double kGapFloorS = 3600;
inline constexpr double kGapFactor = 1000;
inline constexpr int64_t kGapWarmupGaps = 16;

// Special values of a reader's max_gap_s.
inline constexpr double kDefaultGapRule = 0;  // the adaptive rule above
inline constexpr double kNoGapLimit = std::numeric_limits<double>::infinity();

class ArrivalGapCheck {
 public:
  // max_gap_s: kDefaultGapRule, kNoGapLimit, or a fixed limit in seconds (> 0).
  ArrivalGapCheck(std::string path, double max_gap_s);

  // The gap (>= 0 s) between the row before `row` and `row`. `describe` names the two rows' times
  // ("TIMESTAMP 'b' follows the previous row's 'a'"); it is called only for a gap longer than the floor.
  // Returns "PATH:ROW: ...; expected ..." for a gap over the limit (possibly an earlier, held one).
  absl::Status Add(double gap_s, int64_t row, absl::FunctionRef<std::string()> describe) {
    if (mode_ == Mode::kAdaptive && gap_s <= kGapFloorS) {
      Count(gap_s);
      return held_ && positive_gaps_ == kGapWarmupGaps ? JudgeHeld() : absl::OkStatus();
    }
    return AddSlow(gap_s, row, describe);
  }

  // At the end of the trace: judges a held gap if there are enough others to compare it with.
  absl::Status Finish();

 private:
  enum class Mode { kAdaptive, kFixed, kOff };
  static constexpr int kMinExp = -30, kMaxExp = 34;  // buckets [2^(e-1), 2^e), clamped to these e

  absl::Status AddSlow(double gap_s, int64_t row, absl::FunctionRef<std::string()> describe);
  absl::Status JudgeHeld();
  void Count(double gap_s);
  double MedianUpperBound() const;
  double Limit() const;
  absl::Status TooLong(int64_t row, double gap_s, const std::string& rows, double limit) const;

  std::string path_;
  Mode mode_;
  double max_gap_s_;
  std::array<uint64_t, kMaxExp - kMinExp + 1> buckets_{};
  int64_t positive_gaps_ = 0;
  // The longest gap over the floor among the first kGapWarmupGaps, not yet judged.
  bool held_ = false;
  int64_t held_row_ = 0;
  double held_gap_s_ = 0;
  std::string held_rows_;
};

}  // namespace gpufleet
