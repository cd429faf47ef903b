// Fitting a replica's profile from its perf model (see replica_profile.h).
#include "sim/engine/replica_profile.h"

#include <algorithm>
#include <vector>

#include "models/cost_model.h"

namespace gpufleet {

ReplicaProfile FitReplicaProfile(const PerfModel& perf, const ReplicaGroup& group, const NodeSpec& node,
                                 const Catalog& catalog, const PriceSpec& prices) {
  ReplicaProfile p;
  p.gpu = group.gpu->name;
  p.max_batched_tokens = std::max<int64_t>(1, group.memory.max_batched_tokens);
  p.kv_block_tokens = group.memory.block_size;
  const auto prefill = [&](int64_t tokens) {
    const SeqWork w{static_cast<uint32_t>(tokens), 0};
    return perf.IterationTime(std::span<const SeqWork>(&w, 1));
  };
  const int64_t hi = std::min<int64_t>(p.max_batched_tokens, 1 << 20);
  const int64_t lo = std::min<int64_t>(512, hi);
  const double t_hi = prefill(hi), t_lo = prefill(lo);
  p.prefill_per_token_s = hi > lo ? std::max(0.0, (t_hi - t_lo) / static_cast<double>(hi - lo)) : t_hi / static_cast<double>(hi);
  p.prefill_fixed_s = std::max(0.0, t_lo - p.prefill_per_token_s * static_cast<double>(lo));
  const int64_t batch = std::clamp<int64_t>(group.memory.max_batch_size, 1, 32);
  const std::vector<SeqWork> step(static_cast<size_t>(batch), SeqWork{1, 1024});
  p.decode_per_token_s = perf.IterationTime(step) / static_cast<double>(batch);
  const FleetCost node_cost = PriceFleet({NodeGroup{&node, 1}}, catalog, prices);
  p.usd_per_s = node_cost.usd_per_hour / std::max(1, node.gpus_per_node) * group.tensor_parallel / 3600.0;
  return p;
}

}  // namespace gpufleet
