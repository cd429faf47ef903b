// KV-cache aware: the replica whose KV cache has the most room left once its queue is in, counted in
// tokens (free blocks x block size, less the prompt tokens it has queued and not yet prefilled). A
// replica close to its memory limit preempts (recomputes or swaps) what it runs; this router keeps
// requests away from those, and in a mixed fleet sends more to the GPUs with more memory. Lowest index
// on ties. A scan of the replicas per arrival (O(R)): no ordering holds "room after the queue".
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class KvAwareRouter final : public Router {
 public:
  size_t Route(const TraceRequest&, const FleetView& fleet) override {
    size_t best = 0;
    int64_t best_room = 0;
    for (size_t r = 0; r < fleet.size(); ++r) {
      const ReplicaLoad& l = fleet.load(r);
      const int64_t room = l.kv_free_blocks * fleet.profile(r).kv_block_tokens - l.queued_prompt_tokens;
      if (r == 0 || room > best_room) {
        best = r;
        best_room = room;
      }
    }
    return best;
  }
};

GF_REGISTER_POLICY(Router, "kv_aware",
                   "most free KV-cache tokens after the replica's queued prompts (mixed fleets: more to bigger "
                   "memories)",
                   [](MapReader&) -> absl::StatusOr<std::unique_ptr<Router>> { return std::make_unique<KvAwareRouter>(); });

}  // namespace
}  // namespace gpufleet
