// SLO aware: the replica where the request's predicted time to first token is smallest, from the perf
// model's prefill figures for that replica (ReplicaProfile::PredictTtft: the prompt tokens queued ahead of
// it plus its own, in iterations of the replica's token budget). In a mixed fleet this weighs each GPU
// type by its prefill speed, which token counts alone do not: an H100 with twice an A100's queue may
// still answer first. A scan of the replicas per arrival (O(R)). Ties: fewer outstanding tokens, then the
// lowest index.
#include <limits>

#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class SloAwareRouter final : public Router {
 public:
  size_t Route(const TraceRequest& request, const FleetView& fleet) override {
    size_t best = 0;
    double best_ttft = std::numeric_limits<double>::infinity();
    for (size_t r = 0; r < fleet.size(); ++r) {
      const ReplicaLoad& l = fleet.load(r);
      const double ttft = fleet.profile(r).PredictTtft(l, request.prompt_tokens, request.arrival_s);
      if (ttft < best_ttft || (ttft == best_ttft && l.outstanding_tokens < fleet.load(best).outstanding_tokens)) {
        best = r;
        best_ttft = ttft;
      }
    }
    return best;
  }
};

GF_REGISTER_POLICY(Router, "slo_aware",
                   "least predicted time to first token (the replica's perf-model prefill speed x the prompt "
                   "tokens queued ahead)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> { return std::make_unique<SloAwareRouter>(); });

}  // namespace
}  // namespace gpufleet
