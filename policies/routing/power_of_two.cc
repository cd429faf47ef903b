// Power of two choices (Mitzenmacher): draw two distinct replicas at random, send the request to the one
// with fewer outstanding tokens (the first drawn on ties). Near-least-loaded balance for O(1) state reads
// per arrival, the rule a router with stale or costly load information uses. The draws come from the
// scenario seed's own "router" stream, so a run is reproducible and changing the router does not change
// the workload.
#include <algorithm>

#include "policies/routing/router.h"
#include "traces/random.h"

namespace gpufleet {
namespace {

class PowerOfTwoRouter final : public Router {
 public:
  explicit PowerOfTwoRouter(int64_t choices) : choices_(choices) {}

  absl::Status Bind(const PolicyBinding& binding) override {
    rng_ = Rng(DeriveSeed(binding.seed, "router"));
    return absl::OkStatus();
  }

  size_t Route(const TraceRequest&, const FleetView& fleet) override {
    const int64_t n = static_cast<int64_t>(fleet.size());
    if (n == 1) return 0;
    // d distinct draws by a partial Fisher-Yates over the first d slots, kept implicit: resample on repeats
    // (d is tiny against n, so repeats are rare and the draw stays uniform).
    int64_t best = rng_.UniformInt(0, n - 1);
    const int64_t d = std::min(choices_, n);
    int64_t drawn[8] = {best};
    for (int64_t k = 1; k < d; ++k) {
      int64_t c;
      do {
        c = rng_.UniformInt(0, n - 1);
      } while (std::find(drawn, drawn + k, c) != drawn + k);
      drawn[k] = c;
      if (fleet.load(static_cast<size_t>(c)).outstanding_tokens < fleet.load(static_cast<size_t>(best)).outstanding_tokens) best = c;
    }
    return static_cast<size_t>(best);
  }

 private:
  int64_t choices_;
  Rng rng_{0};
};

absl::StatusOr<std::unique_ptr<Router>> MakePowerOfTwo(MapReader& m) {
  int64_t choices = 2;
  if (auto st = m.Opt("choices", &choices, 2, 8); !st.ok()) return st;
  return std::make_unique<PowerOfTwoRouter>(choices);
}

GF_REGISTER_POLICY(Router, "power_of_two",
                   "the less loaded (outstanding tokens) of `choices` replicas drawn at random from the scenario "
                   "seed (params: choices)",
                   MakePowerOfTwo);

}  // namespace
}  // namespace gpufleet
