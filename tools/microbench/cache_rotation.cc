// Cold-operand rotation counts (see cache_rotation.h).
#include "tools/microbench/cache_rotation.h"

#include <algorithm>

namespace gpufleet::microbench {

int64_t AttentionKvBytes(const Measurement& m) {
  if (m.op == Op::kAttnDecode) return static_cast<int64_t>(DecodeKvCacheBytes(m));
  if (m.op != Op::kAttnPrefill) return 0;
  return 2 * m.batch * (m.kv_tokens + m.q_tokens) * m.kv_heads * m.head_dim * DtypeBytes(m.dtype);
}

ColdRotation RotationFor(const Measurement& m, int64_t l2_bytes) {
  ColdRotation r;
  const int64_t e = DtypeBytes(m.dtype);
  if (m.op == Op::kGemm) {
    // fp8 GEMMs write bf16.
    const int64_t out = m.dtype == Dtype::kFp8 ? 2 : e;
    r.cold_bytes = m.n * m.k * e;
    r.working_set_bytes = r.cold_bytes + m.m * m.k * e + m.m * m.n * out;
  } else if (IsAttention(m.op)) {
    r.cold_bytes = AttentionKvBytes(m);
    const int64_t q_tokens = m.op == Op::kAttnDecode ? 1 : m.q_tokens;
    r.working_set_bytes = r.cold_bytes + 2 * m.batch * q_tokens * m.heads * m.head_dim * e;  // Q and O
  } else if (IsMemory(m.op)) {
    r.working_set_bytes = m.bytes;
  }
  if (r.cold_bytes > 0 && l2_bytes > 0) {
    const int64_t set = kColdSetL2Multiple * l2_bytes;
    r.copies = std::clamp<int64_t>((set + r.cold_bytes - 1) / r.cold_bytes, 1, kMaxColdCopies);
  }
  return r;
}

bool ServedFromL2(int64_t working_set_bytes, int64_t l2_bytes) {
  return l2_bytes > 0 && working_set_bytes < 2 * l2_bytes;
}

}  // namespace gpufleet::microbench
