#include "traces/superpose_stream.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "traces/reshape_streams.h"
#include "traces/trace_extent.h"
#include "traces/trace_file.h"

namespace gpufleet {
namespace {

// One shifted copy: phase A streams the tail of the file (r >= threshold), phase B the head.
class ShiftedCopy {
 public:
  ShiftedCopy(std::string path, std::string format, size_t buffer_bytes, double max_gap_s, double first_s,
              double period_s, double shift_s)
      : path_(std::move(path)), format_(std::move(format)), buffer_bytes_(buffer_bytes), max_gap_s_(max_gap_s),
        first_s_(first_s), period_s_(period_s), shift_s_(shift_s),
        threshold_s_(shift_s > 0 ? period_s - shift_s : std::numeric_limits<double>::infinity()),
        phase_(shift_s > 0 ? Phase::kTail : Phase::kHead) {}

  // Next request of this copy in time order; false when the copy is done.
  absl::StatusOr<bool> Next(TraceRequest* out) {
    while (phase_ != Phase::kDone) {
      if (part_ == nullptr) {
        absl::StatusOr<std::unique_ptr<RequestStream>> s = OpenTraceFile(path_, format_, buffer_bytes_, max_gap_s_);
        if (!s.ok()) return s.status();
        part_ = *std::move(s);
      }
      absl::StatusOr<bool> more = part_->Next(out);
      if (!more.ok()) return more.status();
      if (!*more) {
        part_.reset();
        phase_ = phase_ == Phase::kTail ? Phase::kHead : Phase::kDone;
        continue;
      }
      const double r = out->arrival_s - first_s_;
      if (phase_ == Phase::kTail) {
        if (r < threshold_s_) continue;  // belongs to the head part
        return Shifted(out, r + shift_s_ - period_s_);
      }
      if (r >= threshold_s_) {  // the rest was emitted by the tail part
        part_.reset();
        phase_ = Phase::kDone;
        break;
      }
      return Shifted(out, r + shift_s_);
    }
    return false;
  }

 private:
  enum class Phase { kTail, kHead, kDone };

  absl::StatusOr<bool> Shifted(TraceRequest* out, double relative_s) {
    const double before_s = out->arrival_s;
    out->arrival_s = first_s_ + relative_s;
    if (!std::isfinite(out->arrival_s)) return NonFiniteArrivalError("superpose", before_s, out->arrival_s);
    return true;
  }

  std::string path_, format_;
  size_t buffer_bytes_;
  double max_gap_s_;
  double first_s_, period_s_, shift_s_, threshold_s_;
  Phase phase_;
  std::unique_ptr<RequestStream> part_;
};

class SuperposeStream : public RequestStream {
 public:
  SuperposeStream(std::vector<ShiftedCopy> copies, const TraceExtent& extent)
      : copies_(std::move(copies)), pending_(copies_.size()), first_s_(extent.first_arrival_s),
        period_s_(extent.period_s()) {}

  absl::StatusOr<bool> Next(TraceRequest* out) override {
    if (!started_) {
      started_ = true;
      for (size_t k = 0; k < copies_.size(); ++k) {
        if (absl::Status s = Advance(k); !s.ok()) return s;
      }
    }
    if (heap_.empty()) {
      done_ = true;
      return false;
    }
    const size_t k = heap_.top().second;
    heap_.pop();
    *out = pending_[k];
    out->id = next_id_++;
    last_arrival_s_ = out->arrival_s;
    if (absl::Status s = Advance(k); !s.ok()) return s;
    return true;
  }

  double Progress() const override {
    if (done_) return 1;
    if (!started_) return 0;
    if (period_s_ <= 0) return -1;
    return std::clamp((last_arrival_s_ - first_s_) / period_s_, 0.0, 1.0);
  }

 private:
  absl::Status Advance(size_t k) {
    absl::StatusOr<bool> more = copies_[k].Next(&pending_[k]);
    if (!more.ok()) return more.status();
    if (*more) heap_.emplace(pending_[k].arrival_s, k);
    return absl::OkStatus();
  }

  using Key = std::pair<double, size_t>;  // (arrival, copy index): ties go to the lower copy
  std::vector<ShiftedCopy> copies_;
  std::vector<TraceRequest> pending_;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> heap_;
  double first_s_, period_s_;
  double last_arrival_s_ = 0;
  uint64_t next_id_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RequestStream>> MakeSuperposedTrace(const std::string& path,
                                                                   absl::string_view format, int copies,
                                                                   double max_gap_s) {
  if (copies < 1) {
    return absl::InvalidArgumentError(absl::StrCat("superpose is ", copies, "; expected an integer >= 1"));
  }
  if (copies == 1) return OpenTraceFile(path, format, CsvLineReader::kDefaultBufferBytes, max_gap_s);
  absl::StatusOr<TraceExtent> extent = ReadTraceExtent(path, format, max_gap_s);
  if (!extent.ok()) return extent.status();
  // Up to one open reader per copy at a time; keep their buffers to ~32 MiB in all.
  const size_t buffer_bytes =
      std::clamp<size_t>((size_t{32} << 20) / static_cast<size_t>(copies), 64 * 1024, size_t{1} << 20);
  const double period = extent->period_s();
  if (!std::isfinite(period)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the trace's period (span + mean gap) is ", period,
                                                   " s; expected a finite time to superpose copies over"));
  }
  std::vector<ShiftedCopy> parts;
  parts.reserve(copies);
  for (int k = 0; k < copies; ++k) {
    parts.emplace_back(path, std::string(format), buffer_bytes, max_gap_s, extent->first_arrival_s, period,
                       period * k / copies);
  }
  return std::unique_ptr<RequestStream>(new SuperposeStream(std::move(parts), *extent));
}

}  // namespace gpufleet
