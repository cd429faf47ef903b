#include "traces/synthetic_stream.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "traces/csv_fields.h"
#include "traces/length_sampler.h"
#include "traces/random.h"
#include "traces/reshape_streams.h"
#include "traces/trace_file.h"

namespace gpufleet {
namespace {

class SyntheticStream : public RequestStream {
 public:
  SyntheticStream(const WorkloadSpec& spec, uint64_t seed, std::vector<LengthPair> pairs)
      : gamma_(spec.arrival == "gamma"),
        rate_(spec.rate_rps),
        shape_(1.0 / (spec.cv * spec.cv)),
        scale_(spec.cv * spec.cv / spec.rate_rps),
        arrivals_(DeriveSeed(seed, "arrivals")),
        resample_rng_(DeriveSeed(seed, "resample")),
        prompt_(spec.prompt_len, DeriveSeed(seed, "prompt_len")),
        output_(spec.output_len, DeriveSeed(seed, "output_len")),
        pairs_(std::move(pairs)) {}

  absl::StatusOr<bool> Next(TraceRequest* out) override {
    const double before_s = t_;
    t_ += gamma_ ? arrivals_.Gamma(shape_, scale_) : arrivals_.Exponential(rate_);
    if (!std::isfinite(t_)) return NonFiniteArrivalError("synthetic arrivals", before_s, t_);
    out->id = next_id_++;
    out->arrival_s = t_;
    if (!pairs_.empty()) {
      const LengthPair& p =
          pairs_[static_cast<size_t>(resample_rng_.UniformInt(0, static_cast<int64_t>(pairs_.size()) - 1))];
      out->prompt_tokens = p.prompt_tokens;
      out->output_tokens = p.output_tokens;
    } else {
      out->prompt_tokens = prompt_.Sample();
      out->output_tokens = output_.Sample();
    }
    out->priority = 0;
    out->service_class = 0;
    out->prefix_id = 0;
    out->prefix_tokens = 0;
    return true;
  }
  double Progress() const override { return -1; }

 private:
  bool gamma_;
  double rate_, shape_, scale_;
  Rng arrivals_, resample_rng_;
  LengthSampler prompt_, output_;
  std::vector<LengthPair> pairs_;
  double t_ = 0;
  uint64_t next_id_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RequestStream>> MakeSyntheticStream(const WorkloadSpec& spec, uint64_t seed) {
  if (spec.arrival != "poisson" && spec.arrival != "gamma") {
    return absl::InvalidArgumentError(
        absl::StrCat("arrival is ", QuoteField(spec.arrival), "; expected 'poisson' or 'gamma'"));
  }
  if (!(spec.rate_rps > 0) || !std::isfinite(spec.rate_rps)) {
    return absl::InvalidArgumentError(absl::StrCat("rate_rps is ", spec.rate_rps, "; expected a number > 0"));
  }
  if (spec.arrival == "gamma" && (!(spec.cv > 0) || !std::isfinite(spec.cv))) {
    return absl::InvalidArgumentError(absl::StrCat("cv is ", spec.cv, "; expected a number > 0"));
  }
  std::vector<LengthPair> pairs;
  if (!spec.resample_path.empty()) {
    if (absl::Status s = CheckTraceFormat(spec.resample_format, "resample_format"); !s.ok()) return s;
    absl::StatusOr<std::vector<LengthPair>> loaded = LoadLengthPairs(spec.resample_path, spec.resample_format);
    if (!loaded.ok()) return loaded.status();
    pairs = *std::move(loaded);
  } else {
    if (absl::Status s = ValidateLengthSpec(spec.prompt_len, "prompt_len"); !s.ok()) return s;
    if (absl::Status s = ValidateLengthSpec(spec.output_len, "output_len"); !s.ok()) return s;
  }
  return std::unique_ptr<RequestStream>(new SyntheticStream(spec, seed, std::move(pairs)));
}

}  // namespace gpufleet
