// Round robin: decode replicas in turn, blind to load and distance (a baseline).
#include "policies/transfer/decode_target.h"

namespace gpufleet {
namespace {

class RoundRobin final : public DecodeTarget {
 public:
  size_t Choose(const Handoff&, const FleetView& decodes, std::span<const int>) override {
    return next_++ % decodes.size();
  }

 private:
  size_t next_ = 0;
};

GF_REGISTER_POLICY(DecodeTarget, "round_robin", "decode replicas in turn, blind to load and distance",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<DecodeTarget>> {
                     return std::make_unique<RoundRobin>();
                   });

}  // namespace
}  // namespace gpufleet
