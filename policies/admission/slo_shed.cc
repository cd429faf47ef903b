// SLO-based shedding: turn a request away when no replica could give it its first token within the TTFT
// target x `slack`, predicted from the perf model's prefill figures and the prompt tokens queued at each
// replica (ReplicaProfile::PredictTtft, the best over the fleet). Under overload this keeps the admitted
// requests within their SLO instead of letting every queue grow (goodput over throughput); a request it
// sheds would have missed its TTFT anyway, by the prediction. Target: `ttft_s`, default the scenario's
// TTFT SLO; a scenario with neither is an error at the policy. Counted as "slo_shed". O(R) per arrival.
// The prediction does not see waits for KV memory: on a replica whose cache is full the admitted still
// miss (1.5x the target at p99 in tests/routing_policies_test.cc); `slack` below 1 buys that back.
#include <limits>

#include "absl/strings/str_cat.h"
#include "policies/admission/admission_policy.h"

namespace gpufleet {
namespace {

class SloShed final : public AdmissionPolicy {
 public:
  SloShed(double ttft_s, double slack, std::string file, YAML::Mark mark)
      : ttft_s_(ttft_s), slack_(slack), file_(std::move(file)), mark_(mark) {}

  absl::Status Bind(const PolicyBinding& binding) override {
    if (ttft_s_ < 0) ttft_s_ = binding.ttft_slo_s;
    if (ttft_s_ <= 0) {
      return YamlError(file_, mark_, "admission slo_shed has no TTFT target to shed by",
                       "a ttft_s parameter, or slos.ttft in the scenario");
    }
    return absl::OkStatus();
  }

  std::optional<std::string> Reject(const TraceRequest& request, double now_s, const FleetView& fleet) override {
    const double limit = ttft_s_ * slack_;
    for (size_t r = 0; r < fleet.size(); ++r) {
      if (fleet.profile(r).PredictTtft(fleet.load(r), request.prompt_tokens, now_s) <= limit) return std::nullopt;
    }
    return std::string("slo_shed");
  }

 private:
  double ttft_s_, slack_;
  std::string file_;
  YAML::Mark mark_;
};

absl::StatusOr<std::unique_ptr<AdmissionPolicy>> MakeSloShed(MapReader& m) {
  double ttft_s = -1, slack = 1.0;
  if (auto st = m.Opt("ttft_s", &ttft_s, 0, 1e6); !st.ok()) return st;
  if (auto st = m.Opt("slack", &slack, 0.01, 100); !st.ok()) return st;
  return std::make_unique<SloShed>(ttft_s, slack, m.file(), m.node().Mark());
}

GF_REGISTER_POLICY(AdmissionPolicy, "slo_shed",
                   "reject when no replica's predicted time to first token is within ttft_s x slack (ttft_s "
                   "default: the scenario's TTFT SLO)",
                   MakeSloShed);

}  // namespace
}  // namespace gpufleet
