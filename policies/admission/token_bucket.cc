// Token bucket: a request enters when the bucket holds its cost; the bucket refills at `rate` per second
// up to `burst`. With `cost: requests` (the default) each request costs 1, so at most burst + rate x T
// requests enter in any T seconds; with `cost: tokens` a request costs its prompt plus output tokens, which
// bounds the work admitted rather than the count. Rejected requests are counted as "token_bucket".
#include <algorithm>

#include "policies/admission/admission_policy.h"

namespace gpufleet {
namespace {

class TokenBucket final : public AdmissionPolicy {
 public:
  TokenBucket(double rate, double burst, bool by_tokens) : rate_(rate), burst_(burst), level_(burst), by_tokens_(by_tokens) {}

  std::optional<std::string> Reject(const TraceRequest& request, double now_s, const FleetView&) override {
    level_ = std::min(burst_, level_ + rate_ * std::max(0.0, now_s - last_s_));
    last_s_ = now_s;
    const double cost = by_tokens_ ? static_cast<double>(request.prompt_tokens) + request.output_tokens : 1.0;
    if (cost > level_) return std::string("token_bucket");
    level_ -= cost;
    return std::nullopt;
  }

 private:
  double rate_, burst_, level_;
  bool by_tokens_;
  double last_s_ = 0;
};

absl::StatusOr<std::unique_ptr<AdmissionPolicy>> MakeTokenBucket(MapReader& m) {
  double rate = 0, burst = 0;
  std::string cost = "requests";
  if (auto st = m.Get("rate", &rate, 0, 1e12); !st.ok()) return st;
  if (auto st = m.Get("burst", &burst, 1, 1e15); !st.ok()) return st;
  if (auto st = m.OptEnum("cost", {"requests", "tokens"}, &cost); !st.ok()) return st;
  return std::make_unique<TokenBucket>(rate, burst, cost == "tokens");
}

GF_REGISTER_POLICY(AdmissionPolicy, "token_bucket",
                   "admit while a bucket refilled at rate per second (up to burst) holds the request's cost (params: "
                   "rate, burst, cost: requests or tokens)",
                   MakeTokenBucket);

}  // namespace
}  // namespace gpufleet
