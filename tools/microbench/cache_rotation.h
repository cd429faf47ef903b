// Cold-cache rotation: in a forward pass, a layer's weights and KV cache were evicted from L2 by the other
// layers since the previous step, while the activations a kernel reads were just written by the kernel
// before it. A benchmark that reuses one set of buffers measures weights and KV hot in L2 (on an H100's
// 50 MB L2, a fifth of the GEMM points and almost half the decode points fit). So each point rotates
// among enough copies of its cold operands that consecutive calls on one copy are separated by several
// L2's worth of other data; activations stay in one hot buffer. Host-only; the benches allocate the
// copies in one slab and use copy (call % copies).
#pragma once

#include <cstdint>

#include "tools/microbench/plan.h"

namespace gpufleet::microbench {

// The rotated set is at least this many L2 capacities, so each copy is evicted before it is reused even
// under an adaptive (not strictly LRU) replacement policy.
inline constexpr int64_t kColdSetL2Multiple = 3;
// Copies are capped: operands this small (under ~3 x L2 / 512) are latency-bound, and the timed graph
// holds one call per copy.
inline constexpr int64_t kMaxColdCopies = 512;

struct ColdRotation {
  int64_t cold_bytes = 0;  // bytes of one call's cold operands (weights; K and V); 0 when the op has none
  int64_t copies = 1;      // copies rotated through; 1 when one copy already exceeds the rotated set
  int64_t working_set_bytes = 0;  // every byte one call touches (cold and hot operands)
};

// What a point must rotate given the GPU's L2 capacity (cudaDevAttrL2CacheSize). Memory ops have no cold
// operands (their buffers are the working set, labelled with it in the CSV); collectives neither.
ColdRotation RotationFor(const Measurement& m, int64_t l2_bytes);

// Whether a memory op's working set is small enough to be served from L2 (under 2 x L2): such HBM rows
// measure the cache, not HBM, and calibrate leaves them out.
bool ServedFromL2(int64_t working_set_bytes, int64_t l2_bytes);

// Bytes of the K+V a prefill or decode point reads (the cold part of attention).
int64_t AttentionKvBytes(const Measurement& m);

}  // namespace gpufleet::microbench
