// Priority and shared-prefix tags (see tag_stream.h).
#include "traces/tag_stream.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "traces/random.h"

namespace gpufleet {
namespace {

// Index drawn from a cumulative weight table (last entry = total).
size_t Draw(Rng& rng, const std::vector<double>& cumulative) {
  const double u = rng.Uniform() * cumulative.back();
  return static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
}

std::vector<double> Cumulative(std::vector<double> w) {
  for (size_t i = 1; i < w.size(); ++i) w[i] += w[i - 1];
  return w;
}

class TaggedStream final : public RequestStream {
 public:
  TaggedStream(std::unique_ptr<RequestStream> inner, const WorkloadSpec& spec, uint64_t seed)
      : inner_(std::move(inner)), spec_(spec), priority_rng_(DeriveSeed(seed, "priorities")),
        prefix_rng_(DeriveSeed(seed, "prefixes")) {
    if (!spec.priority_shares.empty()) priority_cum_ = Cumulative(spec.priority_shares);
    if (spec.prefix_groups > 0) {
      std::vector<double> w(static_cast<size_t>(spec.prefix_groups));
      for (size_t k = 0; k < w.size(); ++k) w[k] = 1.0 / std::pow(static_cast<double>(k + 1), spec.prefix_zipf);
      prefix_cum_ = Cumulative(std::move(w));
    }
  }

  absl::StatusOr<bool> Next(TraceRequest* out) override {
    absl::StatusOr<bool> more = inner_->Next(out);
    if (!more.ok() || !*more) return more;
    if (!priority_cum_.empty()) out->priority = static_cast<int32_t>(std::min(Draw(priority_rng_, priority_cum_), priority_cum_.size() - 1));
    if (!prefix_cum_.empty()) {
      // Both draws always happen, so one request's length never changes the next request's tag.
      const bool shares = prefix_rng_.Uniform() < spec_.prefix_share;
      const size_t group = std::min(Draw(prefix_rng_, prefix_cum_), prefix_cum_.size() - 1);
      out->prefix_id = 0;
      out->prefix_tokens = 0;
      if (shares && out->prompt_tokens > 1) {
        out->prefix_id = static_cast<uint32_t>(group + 1);
        out->prefix_tokens = static_cast<uint32_t>(std::min<int64_t>(spec_.prefix_tokens, out->prompt_tokens - 1));
      }
    }
    return true;
  }
  double Progress() const override { return inner_->Progress(); }

 private:
  std::unique_ptr<RequestStream> inner_;
  const WorkloadSpec spec_;
  Rng priority_rng_, prefix_rng_;
  std::vector<double> priority_cum_, prefix_cum_;
};

}  // namespace

bool WantsTags(const WorkloadSpec& spec) { return !spec.priority_shares.empty() || spec.prefix_groups > 0; }

std::unique_ptr<RequestStream> MakeTaggedStream(std::unique_ptr<RequestStream> inner, const WorkloadSpec& spec,
                                                uint64_t seed) {
  return std::make_unique<TaggedStream>(std::move(inner), spec, seed);
}

}  // namespace gpufleet
