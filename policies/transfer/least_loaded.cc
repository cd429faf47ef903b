// Least loaded: the decode replica with the fewest output tokens still to generate (lowest index on ties).
// The default: decode time grows with the sequences a replica batches, and tokens weigh long outputs.
#include "policies/transfer/decode_target.h"

namespace gpufleet {
namespace {

class LeastLoaded final : public DecodeTarget {
 public:
  RouterNeeds Needs() const override { return {.least_tokens = true}; }
  size_t Choose(const Handoff&, const FleetView& decodes, std::span<const int>) override {
    return static_cast<size_t>(decodes.LeastOutstandingTokens());
  }
};

GF_REGISTER_POLICY(DecodeTarget, "least_loaded", "the decode replica with the fewest output tokens left to generate",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<DecodeTarget>> {
                     return std::make_unique<LeastLoaded>();
                   });

}  // namespace
}  // namespace gpufleet
