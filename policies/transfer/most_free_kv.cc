// Most free KV: the decode replica with the most free KV-cache blocks at the end of its last iteration
// (lowest index on ties), so that a landing cache finds room and long contexts do not force preemptions.
#include "policies/transfer/decode_target.h"

namespace gpufleet {
namespace {

class MostFreeKv final : public DecodeTarget {
 public:
  size_t Choose(const Handoff&, const FleetView& decodes, std::span<const int>) override {
    size_t best = 0;
    for (size_t i = 1; i < decodes.size(); ++i) {
      if (decodes.load(i).kv_free_blocks > decodes.load(best).kv_free_blocks) best = i;
    }
    return best;
  }
};

GF_REGISTER_POLICY(DecodeTarget, "most_free_kv", "the decode replica with the most free KV-cache blocks",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<DecodeTarget>> {
                     return std::make_unique<MostFreeKv>();
                   });

}  // namespace
}  // namespace gpufleet
