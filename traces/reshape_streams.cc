#include "traces/reshape_streams.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "traces/arrival_gaps.h"

namespace gpufleet {
namespace {

// Combines an inner progress (-1 = unknown) with a decorator's own estimate (-1 = none).
double CombineProgress(double inner, double own) {
  const double p = std::max(inner, own);
  return p < 0 ? -1 : std::min(p, 1.0);
}

class Decorator : public RequestStream {
 public:
  explicit Decorator(std::unique_ptr<RequestStream> inner) : inner_(std::move(inner)) {}

 protected:
  std::unique_ptr<RequestStream> inner_;
};

class RateMultipliedStream : public Decorator {
 public:
  RateMultipliedStream(std::unique_ptr<RequestStream> inner, double multiplier)
      : Decorator(std::move(inner)), multiplier_(multiplier) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    absl::StatusOr<bool> more = inner_->Next(out);
    if (more.ok() && *more) {
      const double before_s = out->arrival_s;
      out->arrival_s /= multiplier_;
      if (!std::isfinite(out->arrival_s)) return NonFiniteArrivalError("rate_multiplier", before_s, out->arrival_s);
    }
    return more;
  }
  double Progress() const override { return inner_->Progress(); }

 private:
  double multiplier_;
};

class WindowedStream : public Decorator {
 public:
  WindowedStream(std::unique_ptr<RequestStream> inner, double start_s, double end_s)
      : Decorator(std::move(inner)), start_s_(start_s), end_s_(end_s) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    while (!done_) {
      absl::StatusOr<bool> more = inner_->Next(out);
      if (!more.ok()) return more;
      if (!*more || out->arrival_s >= end_s_) {
        done_ = true;
        break;
      }
      last_s_ = out->arrival_s;
      if (out->arrival_s < start_s_) continue;
      const double before_s = out->arrival_s;
      out->arrival_s -= start_s_;
      if (!std::isfinite(out->arrival_s)) return NonFiniteArrivalError("window_s", before_s, out->arrival_s);
      return true;
    }
    return false;
  }
  double Progress() const override {
    if (done_) return 1;
    const double own = std::isfinite(end_s_) && end_s_ > start_s_
                           ? std::max(0.0, (last_s_ - start_s_) / (end_s_ - start_s_))
                           : -1;
    return CombineProgress(inner_->Progress(), own);
  }

 private:
  double start_s_, end_s_;
  double last_s_ = 0;
  bool done_ = false;
};

class FilteredStream : public Decorator {
 public:
  FilteredStream(std::unique_ptr<RequestStream> inner, TokenRange prompt, TokenRange output, double stop_s,
                 int64_t max_dropped_in_row)
      : Decorator(std::move(inner)), prompt_(prompt), output_(output), stop_s_(stop_s),
        max_dropped_in_row_(max_dropped_in_row) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    int64_t dropped = 0;
    while (!done_) {
      absl::StatusOr<bool> more = inner_->Next(out);
      if (!more.ok()) return more;
      if (!*more || out->arrival_s >= stop_s_) {
        done_ = true;
        break;
      }
      if (prompt_.Contains(out->prompt_tokens) && output_.Contains(out->output_tokens)) return true;
      if (max_dropped_in_row_ > 0 && ++dropped >= max_dropped_in_row_) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "workload: filter dropped %d requests in a row (the last at %g s); expected a filter that keeps "
            "some of the source's requests (compare its ranges with the token-length distributions)",
            dropped, out->arrival_s));
      }
    }
    return false;
  }
  double Progress() const override { return done_ ? 1 : inner_->Progress(); }

 private:
  TokenRange prompt_, output_;
  double stop_s_;
  int64_t max_dropped_in_row_;
  bool done_ = false;
};

class CappedStream : public Decorator {
 public:
  CappedStream(std::unique_ptr<RequestStream> inner, int64_t max_requests)
      : Decorator(std::move(inner)), max_(max_requests) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    if (count_ >= max_) return false;
    absl::StatusOr<bool> more = inner_->Next(out);
    if (more.ok() && *more) ++count_;
    if (more.ok() && !*more) count_ = max_;  // ended early: done
    return more;
  }
  double Progress() const override {
    if (count_ >= max_) return 1;
    return CombineProgress(inner_->Progress(), static_cast<double>(count_) / static_cast<double>(max_));
  }

 private:
  int64_t max_;
  int64_t count_ = 0;
};

class HorizonStream : public Decorator {
 public:
  HorizonStream(std::unique_ptr<RequestStream> inner, double horizon_s)
      : Decorator(std::move(inner)), horizon_s_(horizon_s) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    if (done_) return false;
    absl::StatusOr<bool> more = inner_->Next(out);
    if (!more.ok()) return more;
    if (!*more || out->arrival_s >= horizon_s_) {
      done_ = true;
      return false;
    }
    last_s_ = out->arrival_s;
    return true;
  }
  double Progress() const override {
    if (done_) return 1;
    const double own = std::isfinite(horizon_s_) && horizon_s_ > 0 ? last_s_ / horizon_s_ : -1;
    return CombineProgress(inner_->Progress(), own);
  }

 private:
  double horizon_s_;
  double last_s_ = 0;
  bool done_ = false;
};

class IdAssigningStream : public Decorator {
 public:
  explicit IdAssigningStream(std::unique_ptr<RequestStream> inner) : Decorator(std::move(inner)) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    absl::StatusOr<bool> more = inner_->Next(out);
    if (more.ok() && *more) out->id = next_id_++;
    return more;
  }
  double Progress() const override { return inner_->Progress(); }

 private:
  uint64_t next_id_ = 0;
};

}  // namespace

std::unique_ptr<RequestStream> MakeRateMultipliedStream(std::unique_ptr<RequestStream> inner,
                                                        double multiplier) {
  return std::make_unique<RateMultipliedStream>(std::move(inner), multiplier);
}

std::unique_ptr<RequestStream> MakeWindowedStream(std::unique_ptr<RequestStream> inner, double start_s,
                                                  double end_s) {
  return std::make_unique<WindowedStream>(std::move(inner), start_s, end_s);
}

std::unique_ptr<RequestStream> MakeFilteredStream(std::unique_ptr<RequestStream> inner, TokenRange prompt,
                                                  TokenRange output, double stop_s, int64_t max_dropped_in_row) {
  return std::make_unique<FilteredStream>(std::move(inner), prompt, output, stop_s, max_dropped_in_row);
}

std::unique_ptr<RequestStream> MakeCappedStream(std::unique_ptr<RequestStream> inner, int64_t max_requests) {
  return std::make_unique<CappedStream>(std::move(inner), max_requests);
}

std::unique_ptr<RequestStream> MakeHorizonStream(std::unique_ptr<RequestStream> inner, double horizon_s) {
  return std::make_unique<HorizonStream>(std::move(inner), horizon_s);
}

std::unique_ptr<RequestStream> MakeIdAssigningStream(std::unique_ptr<RequestStream> inner) {
  return std::make_unique<IdAssigningStream>(std::move(inner));
}

absl::Status NonFiniteArrivalError(absl::string_view step, double before_s, double after_s) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "workload: %s turned an arrival at %g s into %g s; expected finite arrival times (trace arrivals "
      "within %s of its start, options within their documented ranges)",
      std::string(step), before_s, after_s, kMaxTraceArrivalText));
}

}  // namespace gpufleet
