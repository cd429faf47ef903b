// Tests for the CPU reference attention (tools/microbench/attention_reference.h) that the GPU kernels are
// checked against: closed-form cases, causal masking with context, GQA head mapping, and agreement of
// the paged decode formulation with the contiguous prefill one.
#include "tools/microbench/attention_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace gpufleet::microbench {
namespace {

std::vector<float> Random(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

TEST(MicrobenchReference, FirstQueryWithoutContextReturnsItsOwnValue) {
  std::mt19937 rng(1);
  AttentionShape s{.batch = 2, .q_tokens = 5, .kv_tokens = 0, .heads = 4, .kv_heads = 2, .head_dim = 8};
  auto q = Random(2 * 5 * 4 * 8, rng), k = Random(2 * 5 * 2 * 8, rng), v = Random(2 * 5 * 2 * 8, rng);
  auto o = PrefillReference(s, q, k, v, 0.35f);
  for (int b = 0; b < 2; ++b) {
    for (int h = 0; h < 4; ++h) {
      for (int e = 0; e < 8; ++e) {
        // Query 0 sees key 0 only; head h reads KV head h / 2.
        EXPECT_FLOAT_EQ(o[((b * 5 + 0) * 4 + h) * 8 + e], v[((b * 5 + 0) * 2 + h / 2) * 8 + e]);
      }
    }
  }
}

TEST(MicrobenchReference, UniformScoresAverageTheVisibleValues) {
  // Zero queries give equal scores, so each output is the mean of the values it may see: with context C,
  // query i averages values 0..C+i.
  AttentionShape s{.batch = 1, .q_tokens = 3, .kv_tokens = 4, .heads = 1, .kv_heads = 1, .head_dim = 2};
  std::vector<float> q(3 * 2, 0.0f), k(7 * 2, 1.0f), v(7 * 2);
  for (int j = 0; j < 7; ++j) v[j * 2] = v[j * 2 + 1] = static_cast<float>(j);
  auto o = PrefillReference(s, q, k, v, 1.0f);
  for (int i = 0; i < 3; ++i) {
    const double mean = (4 + i) / 2.0;  // mean of 0..4+i
    EXPECT_NEAR(o[i * 2], mean, 1e-6);
    EXPECT_NEAR(o[i * 2 + 1], mean, 1e-6);
  }
}

TEST(MicrobenchReference, PagedDecodeMatchesContiguousPrefill) {
  std::mt19937 rng(3);
  const int batch = 3, heads = 8, kv_heads = 2, d = 16, bs = 4;
  const std::vector<int> lens = {1, 9, 23};
  PagedKvLayout kv;
  kv.block_size = bs;
  kv.max_blocks_per_seq = 6;
  kv.num_blocks = 0;
  for (int l : lens) kv.num_blocks += (l + bs - 1) / bs;
  std::vector<int> perm(kv.num_blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  kv.block_table.assign(batch * kv.max_blocks_per_seq, -1);
  int next = 0;
  for (int b = 0; b < batch; ++b) {
    kv.context_lens.push_back(lens[b]);
    for (int j = 0; j < (lens[b] + bs - 1) / bs; ++j) kv.block_table[b * kv.max_blocks_per_seq + j] = perm[next++];
  }
  auto kc = Random(static_cast<size_t>(kv.num_blocks) * bs * kv_heads * d, rng);
  auto vc = Random(kc.size(), rng);
  auto q = Random(batch * heads * d, rng);
  const float scale = 1 / std::sqrt(static_cast<float>(d));
  auto decode = DecodeReference({.batch = batch, .q_tokens = 1, .heads = heads, .kv_heads = kv_heads, .head_dim = d},
                                kv, q, kc, vc, scale);
  for (int b = 0; b < batch; ++b) {
    // The same sequence laid out contiguously: context lens-1 tokens, then the query token.
    const int L = lens[b];
    std::vector<float> k(L * kv_heads * d), v(k.size());
    for (int j = 0; j < L; ++j) {
      const int block = kv.block_table[b * kv.max_blocks_per_seq + j / bs];
      const size_t src = (static_cast<size_t>(block) * bs + j % bs) * kv_heads * d;
      std::copy_n(kc.begin() + src, kv_heads * d, k.begin() + j * kv_heads * d);
      std::copy_n(vc.begin() + src, kv_heads * d, v.begin() + j * kv_heads * d);
    }
    std::vector<float> qb(q.begin() + b * heads * d, q.begin() + (b + 1) * heads * d);
    auto prefill = PrefillReference(
        {.batch = 1, .q_tokens = 1, .kv_tokens = L - 1, .heads = heads, .kv_heads = kv_heads, .head_dim = d}, qb, k,
        v, scale);
    std::vector<float> got(decode.begin() + b * heads * d, decode.begin() + (b + 1) * heads * d);
    Comparison c = CompareOutputs(got, prefill, 1e-6, 1e-6);
    EXPECT_TRUE(c.ok) << "sequence " << b << ": " << c.Describe();
  }
}

TEST(MicrobenchReference, CompareOutputsTolerances) {
  EXPECT_TRUE(CompareOutputs({1.0f, 2.0f}, {1.0f, 2.01f}, 0.0, 0.01).ok);
  Comparison c = CompareOutputs({1.0f, 2.5f}, {1.0f, 2.0f}, 0.01, 0.01);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.worst_index, 1u);
  EXPECT_NEAR(c.max_abs_error, 0.5, 1e-6);
  EXPECT_FALSE(CompareOutputs({NAN}, {1.0f}, 1, 1).ok);
  EXPECT_FALSE(CompareOutputs({1.0f}, {1.0f, 2.0f}, 1, 1).ok);
}

}  // namespace
}  // namespace gpufleet::microbench
