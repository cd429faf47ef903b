// Implementation of the arrival-gap rule (see arrival_gaps.h).
#include "traces/arrival_gaps.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include "absl/strings/str_format.h"
#include "traces/csv_fields.h"

namespace gpufleet {

ArrivalGapCheck::ArrivalGapCheck(std::string path, double max_gap_s)
    : path_(std::move(path)),
      mode_(max_gap_s == kDefaultGapRule ? Mode::kAdaptive
            : std::isinf(max_gap_s)      ? Mode::kOff
                                         : Mode::kFixed),
      max_gap_s_(max_gap_s) {}

void ArrivalGapCheck::Count(double gap_s) {
  if (!(gap_s > 0)) return;  // equal timestamps say nothing about the trace's pace
  // The binary exponent straight from the bits: gap in [2^(e-1), 2^e) for e = biased exponent - 1022.
  const int biased = static_cast<int>((std::bit_cast<uint64_t>(gap_s) >> 52) & 0x7ff);
  const int e = std::clamp(biased - 1022, kMinExp, kMaxExp);
  ++buckets_[static_cast<size_t>(e - kMinExp)];
  ++positive_gaps_;
}

double ArrivalGapCheck::MedianUpperBound() const {
  const int64_t rank = (positive_gaps_ + 1) / 2;  // the lower median
  int64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += static_cast<int64_t>(buckets_[i]);
    if (seen >= rank) return std::ldexp(1.0, static_cast<int>(i) + kMinExp);
  }
  return 0;
}

double ArrivalGapCheck::Limit() const {
  if (mode_ == Mode::kFixed) return max_gap_s_;
  return std::max(kGapFloorS, kGapFactor * MedianUpperBound());
}

absl::Status ArrivalGapCheck::TooLong(int64_t row, double gap_s, const std::string& rows, double limit) const {
  const std::string expected =
      mode_ == Mode::kFixed
          ? absl::StrFormat("gaps of at most %g s (workload.trace.max_gap_s)", limit)
          : absl::StrFormat("gaps of at most %g s, the larger of 1 hour and %g x the median gap so far "
                            "(at most %g s): a mistyped date? workload.trace.max_gap_s in the scenario sets "
                            "another limit (seconds, or .inf for none)",
                            limit, kGapFactor, MedianUpperBound());
  return TraceRowError(path_, row, absl::StrFormat("%s by %.10g s; expected %s", rows, gap_s, expected));
}

absl::Status ArrivalGapCheck::AddSlow(double gap_s, int64_t row, absl::FunctionRef<std::string()> describe) {
  if (mode_ == Mode::kOff) return absl::OkStatus();
  if (mode_ == Mode::kFixed) {
    return gap_s > max_gap_s_ ? TooLong(row, gap_s, describe(), max_gap_s_) : absl::OkStatus();
  }
  if (positive_gaps_ < kGapWarmupGaps) {
    // Too few gaps to know the trace's pace: hold the longest, judge it once the median means something.
    if (!held_ || gap_s > held_gap_s_) {
      held_ = true;
      held_row_ = row;
      held_gap_s_ = gap_s;
      held_rows_ = describe();
    }
    Count(gap_s);
    return held_ && positive_gaps_ == kGapWarmupGaps ? JudgeHeld() : absl::OkStatus();
  }
  const double limit = Limit();
  if (gap_s > limit) return TooLong(row, gap_s, describe(), limit);
  Count(gap_s);
  return absl::OkStatus();
}

absl::Status ArrivalGapCheck::JudgeHeld() {
  held_ = false;
  // The held gap is among the counted ones; a median of >= 3 gaps is not moved by one outlier.
  const double limit = Limit();
  return held_gap_s_ > limit ? TooLong(held_row_, held_gap_s_, held_rows_, limit) : absl::OkStatus();
}

absl::Status ArrivalGapCheck::Finish() {
  if (!held_ || positive_gaps_ < 3) return absl::OkStatus();
  return JudgeHeld();
}

}  // namespace gpufleet
