// CPU reference attention (see attention_reference.h).
#include "tools/microbench/attention_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace gpufleet::microbench {
namespace {

// softmax(scores) . values for one query row; `key` yields the key vector index for position j.
template <class KeyAt, class ValueAt>
void AttendRow(const float* q, int n_keys, int d, float scale, KeyAt key_at, ValueAt value_at, float* out) {
  std::vector<double> scores(static_cast<size_t>(n_keys));
  double max_score = -std::numeric_limits<double>::infinity();
  for (int j = 0; j < n_keys; ++j) {
    const float* kj = key_at(j);
    double s = 0;
    for (int e = 0; e < d; ++e) s += static_cast<double>(q[e]) * kj[e];
    scores[j] = s * scale;
    max_score = std::max(max_score, scores[j]);
  }
  double denom = 0;
  for (double& s : scores) {
    s = std::exp(s - max_score);
    denom += s;
  }
  std::vector<double> acc(static_cast<size_t>(d), 0.0);
  for (int j = 0; j < n_keys; ++j) {
    const float* vj = value_at(j);
    for (int e = 0; e < d; ++e) acc[e] += scores[j] * vj[e];
  }
  for (int e = 0; e < d; ++e) out[e] = static_cast<float>(acc[e] / denom);
}

}  // namespace

std::vector<float> PrefillReference(const AttentionShape& s, const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, float scale) {
  const int d = s.head_dim, total = s.kv_tokens + s.q_tokens, group = s.heads / s.kv_heads;
  std::vector<float> out(static_cast<size_t>(s.batch) * s.q_tokens * s.heads * d);
  for (int b = 0; b < s.batch; ++b) {
    for (int i = 0; i < s.q_tokens; ++i) {
      for (int h = 0; h < s.heads; ++h) {
        const int kvh = h / group;
        const size_t qo = ((static_cast<size_t>(b) * s.q_tokens + i) * s.heads + h) * d;
        auto kv_row = [&](const std::vector<float>& t, int j) {
          return t.data() + ((static_cast<size_t>(b) * total + j) * s.kv_heads + kvh) * d;
        };
        AttendRow(
            q.data() + qo, s.kv_tokens + i + 1, d, scale, [&](int j) { return kv_row(k, j); },
            [&](int j) { return kv_row(v, j); }, out.data() + qo);
      }
    }
  }
  return out;
}

PagedKvLayout ShuffledPagedLayout(const std::vector<int>& lens, int block_size, std::mt19937& rng) {
  PagedKvLayout kv;
  kv.block_size = block_size;
  auto blocks = [block_size](int keys) { return (keys + block_size - 1) / block_size; };
  for (int l : lens) {
    kv.max_blocks_per_seq = std::max(kv.max_blocks_per_seq, blocks(l));
    kv.num_blocks += blocks(l);
  }
  std::vector<int32_t> perm(static_cast<size_t>(kv.num_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  kv.block_table.assign(lens.size() * static_cast<size_t>(kv.max_blocks_per_seq), 0);
  int next = 0;
  for (size_t b = 0; b < lens.size(); ++b) {
    kv.context_lens.push_back(lens[b]);
    for (int j = 0; j < blocks(lens[b]); ++j) kv.block_table[b * kv.max_blocks_per_seq + j] = perm[next++];
  }
  return kv;
}

std::vector<float> DecodeReference(const AttentionShape& s, const PagedKvLayout& kv, const std::vector<float>& q,
                                   const std::vector<float>& k_cache, const std::vector<float>& v_cache, float scale) {
  const int d = s.head_dim, group = s.heads / s.kv_heads;
  std::vector<float> out(static_cast<size_t>(s.batch) * s.heads * d);
  for (int b = 0; b < s.batch; ++b) {
    for (int h = 0; h < s.heads; ++h) {
      const int kvh = h / group;
      auto row = [&](const std::vector<float>& cache, int j) {
        const int block = kv.block_table[static_cast<size_t>(b) * kv.max_blocks_per_seq + j / kv.block_size];
        const size_t slot = static_cast<size_t>(block) * kv.block_size + j % kv.block_size;
        return cache.data() + (slot * s.kv_heads + kvh) * d;
      };
      const size_t qo = (static_cast<size_t>(b) * s.heads + h) * d;
      AttendRow(
          q.data() + qo, kv.context_lens[b], d, scale, [&](int j) { return row(k_cache, j); },
          [&](int j) { return row(v_cache, j); }, out.data() + qo);
    }
  }
  return out;
}

std::string Comparison::Describe() const {
  return fmt::format("{} (max |error| {:.3g} at element {})", ok ? "ok" : "MISMATCH", max_abs_error, worst_index);
}

Comparison CompareOutputs(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol) {
  Comparison c;
  if (got.size() != want.size()) {
    c.ok = false;
    c.max_abs_error = std::numeric_limits<double>::infinity();
    return c;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= atol + rtol * std::fabs(want[i]))) c.ok = false;  // NaN fails too
    if (!(err <= c.max_abs_error)) {
      c.max_abs_error = err;
      c.worst_index = i;
    }
  }
  return c;
}

}  // namespace gpufleet::microbench
