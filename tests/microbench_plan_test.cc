// Tests for the microbenchmark plan (tools/microbench/plan.h): GEMM shapes derived from the catalog's
// architectures, TP filtering, deduplication, attention/memory/collective grids, the duration estimate
// (--quick fits in 5 minutes on an H100), the dry-run summary and the list flags.
#include "tools/microbench/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "models/catalog.h"
#include "tools/microbench/cli_lists.h"
#include "tools/microbench/plan_estimate.h"
#include "tools/microbench/plan_summary.h"

namespace gpufleet::microbench {
namespace {

const Catalog& RealCatalog() {
  static const Catalog* catalog = [] {
    auto c = Catalog::LoadFromDir(Catalog::DefaultDir());
    EXPECT_TRUE(c.ok()) << c.status();
    return new Catalog(c.ok() ? std::move(*c) : Catalog());
  }();
  return *catalog;
}

const LlmSpec& Model(const std::string& name) {
  const LlmSpec* m = RealCatalog().FindLlm(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

bool HasSource(const Measurement& m, const std::string& s) {
  return std::find(m.sources.begin(), m.sources.end(), s) != m.sources.end();
}

const Measurement* FindGemm(const Plan& p, Dtype d, int64_t m, int64_t n, int64_t k) {
  for (const Measurement& x : p.points) {
    if (x.op == Op::kGemm && x.dtype == d && x.m == m && x.n == n && x.k == k) return &x;
  }
  return nullptr;
}

PlanOptions GemmOnly(std::vector<int64_t> tokens) {
  PlanOptions o = PlanOptions::Defaults(false);
  o.ops = {OpGroup::kGemm};
  o.tokens = std::move(tokens);
  o.lm_head_batches = {};
  o.square_sizes = {};
  o.dtypes = {Dtype::kBf16};
  return o;
}

TEST(MicrobenchPlan, LayerShapesOfDenseGqaModel) {
  // Llama-2-70B: hidden 8192, 64 heads, 8 KV heads, head_dim 128, gated ffn 28672.
  const LlmSpec& m = Model("Llama-2-70B");
  std::vector<GemmShape> s = LayerGemmShapes(m, 8, 512);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].role, "qkv");
  EXPECT_EQ(s[0].m, 512);
  EXPECT_EQ(s[0].n, (8 + 2 * 1) * 128);
  EXPECT_EQ(s[0].k, 8192);
  EXPECT_EQ(s[1].role, "o");
  EXPECT_EQ(s[1].k, 8 * 128);
  EXPECT_EQ(s[1].n, 8192);
  EXPECT_EQ(s[2].role, "up");
  EXPECT_EQ(s[2].n, 2 * 28672 / 8);
  EXPECT_EQ(s[2].k, 8192);
  EXPECT_EQ(s[3].role, "down");
  EXPECT_EQ(s[3].k, 28672 / 8);
  EXPECT_EQ(s[3].n, 8192);
  // TP 1: all heads; KV heads stay 8.
  s = LayerGemmShapes(m, 1, 1);
  EXPECT_EQ(s[0].n, (64 + 2 * 8) * 128);
  EXPECT_EQ(s[0].m, 1);
  // LM head over the vocabulary shard.
  GemmShape lm = LmHeadShape(m, 4, 32);
  EXPECT_EQ(lm.m, 32);
  EXPECT_EQ(lm.n, 32000 / 4);
  EXPECT_EQ(lm.k, 8192);
}

TEST(MicrobenchPlan, LayerShapesOfMoeAndUngatedModels) {
  // Mixtral-8x7B: 8 experts, top-2, ffn 14336 per expert: an expert sees ceil(tokens * 2 / 8) tokens.
  const LlmSpec& mix = Model("Mixtral-8x7B");
  std::vector<GemmShape> s = LayerGemmShapes(mix, 2, 512);
  EXPECT_EQ(s[0].m, 512);  // attention sees every token
  EXPECT_EQ(s[2].role, "expert_up");
  EXPECT_EQ(s[2].m, 128);
  EXPECT_EQ(s[2].n, 2 * 14336 / 2);
  EXPECT_EQ(s[3].role, "expert_down");
  EXPECT_EQ(s[3].m, 128);
  ASSERT_EQ(s.size(), 5u);  // and the router: every token against the 8 experts
  EXPECT_EQ(s[4].role, "router");
  EXPECT_EQ(s[4].m, 512);
  EXPECT_EQ(s[4].n, 8);
  EXPECT_EQ(s[4].k, 4096);
  EXPECT_EQ(LayerGemmShapes(mix, 1, 1)[2].m, 1);  // at least one token
  EXPECT_EQ(LayerGemmShapes(mix, 1, 5)[2].m, 2);  // ceil(10 / 8)
  // Phi-2: two-matrix GELU MLP, multi-head attention, head_dim 80.
  const LlmSpec& phi = Model("Phi-2");
  s = LayerGemmShapes(phi, 2, 64);
  EXPECT_EQ(s[0].n, (16 + 2 * 16) * 80);
  EXPECT_EQ(s[2].n, 10240 / 2);
  // KV heads replicate when TP exceeds them (Falcon-180B: 232 heads, 8 KV heads, head_dim 64).
  const LlmSpec& falcon = Model("Falcon-180B");
  AttentionHeads h = PerGpuHeads(falcon, 8);
  EXPECT_EQ(h.heads, 29);
  EXPECT_EQ(h.kv_heads, 1);
  EXPECT_EQ(h.head_dim, 64);
}

TEST(MicrobenchPlan, TpDegreesMustDivideHeads) {
  LlmSpec odd = Model("Llama-2-7B");
  odd.name = "six-heads";
  odd.heads = 6;
  odd.kv_heads = 6;
  odd.hidden = 6 * 128;
  odd.head_dim = 128;
  EXPECT_EQ(TpDegreesFor(odd, {1, 2, 4, 8}), (std::vector<int>{1, 2}));
  auto plan = BuildPlan({odd}, GemmOnly({16}));
  ASSERT_TRUE(plan.ok()) << plan.status();
  bool noted = false;
  for (const std::string& n : plan->notes) noted |= n.find("six-heads: TP 4 skipped") != std::string::npos;
  EXPECT_TRUE(noted);
  for (const Measurement& m : plan->points) {
    for (const std::string& s : m.sources) {
      EXPECT_EQ(s.find(" tp4 "), std::string::npos) << s;
      EXPECT_EQ(s.find(" tp8 "), std::string::npos) << s;
    }
  }
}

TEST(MicrobenchPlan, FullCatalogPlanCoversEveryModelWithoutDuplicates) {
  auto models = SelectModels(RealCatalog(), {});
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->size(), RealCatalog().llms().size());
  PlanOptions o = PlanOptions::Defaults(false);
  o.ranks = 8;
  auto plan = BuildPlan(*models, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::set<decltype(Measurement().Key())> keys;
  for (const Measurement& m : plan->points) EXPECT_TRUE(keys.insert(m.Key()).second) << m.Describe();
  // Every catalog model contributes its QKV shape at each TP degree and dtype.
  for (const LlmSpec& m : *models) {
    for (int tp : TpDegreesFor(m, o.tp)) {
      const GemmShape qkv = LayerGemmShapes(m, tp, 4096)[0];
      for (Dtype d : {Dtype::kFp16, Dtype::kBf16, Dtype::kFp8}) {
        const Measurement* p = FindGemm(*plan, d, qkv.m, qkv.n, qkv.k);
        ASSERT_NE(p, nullptr) << m.name << " tp" << tp;
        EXPECT_TRUE(HasSource(*p, m.name + " tp" + std::to_string(tp) + " qkv")) << m.name;
      }
    }
  }
  // Square sweep present.
  EXPECT_NE(FindGemm(*plan, Dtype::kBf16, 4096, 4096, 4096), nullptr);
  EXPECT_NE(FindGemm(*plan, Dtype::kFp8, 16384, 16384, 16384), nullptr);
  // Run order: launch, memory, gemm, attention, collectives.
  ASSERT_FALSE(plan->points.empty());
  EXPECT_EQ(plan->points.front().op, Op::kLaunch);
  EXPECT_TRUE(IsCollective(plan->points.back().op));
  EXPECT_EQ(plan->Count(Op::kLaunch), 2);  // host launches and graph replays
  // Collectives: 1 KiB .. 1 GiB doubling = 21 sizes, four ops.
  for (Op op : {Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kSendRecv}) EXPECT_EQ(plan->Count(op), 21);
  // Memory: buffers 1 MiB..1 GiB doubling; copy moves 2x, triad 3x.
  EXPECT_EQ(plan->Count(Op::kHbmCopy), 11);
  EXPECT_EQ(plan->Count(Op::kH2D), 10);
  int64_t max_copy = 0;
  for (const Measurement& m : plan->points) {
    if (m.op == Op::kHbmCopy) max_copy = std::max(max_copy, m.bytes);
  }
  EXPECT_EQ(max_copy, int64_t{2} << 30);
}

TEST(MicrobenchPlan, SharedArchitecturesDeduplicateAndMergeSources) {
  auto plan_one = BuildPlan({Model("Llama-3-8B")}, GemmOnly({1, 64, 4096}));
  auto plan_two = BuildPlan({Model("Llama-3-8B"), Model("Llama-3.1-8B")}, GemmOnly({1, 64, 4096}));
  ASSERT_TRUE(plan_one.ok() && plan_two.ok());
  EXPECT_EQ(plan_one->points.size(), plan_two->points.size());
  for (const Measurement& m : plan_two->points) {
    EXPECT_EQ(m.sources.size(), 2u) << m.Describe();
  }
  // 4 TP degrees x 3 token counts x 4 matrices, all distinct for one model.
  EXPECT_EQ(plan_one->points.size(), 4u * 3 * 4);
}

TEST(MicrobenchPlan, Fp8DroppedWithoutSupport) {
  PlanOptions o = GemmOnly({16});
  o.dtypes = {Dtype::kFp16, Dtype::kFp8};
  o.fp8_supported = false;
  auto plan = BuildPlan({Model("Llama-2-7B")}, o);
  ASSERT_TRUE(plan.ok());
  for (const Measurement& m : plan->points) EXPECT_NE(m.dtype, Dtype::kFp8);
  bool noted = false;
  for (const std::string& n : plan->notes) noted |= n.find("fp8 skipped") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(MicrobenchPlan, AttentionGridUsesPerGpuHeadsContextLimitAndMemoryCap) {
  PlanOptions o = PlanOptions::Defaults(false);
  o.ops = {OpGroup::kAttention};
  o.dtypes = {Dtype::kBf16, Dtype::kFp8};
  o.max_kv_cache_bytes = 8e9;
  auto plan = BuildPlan({Model("Llama-2-7B"), Model("Llama-3.1-70B")}, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::set<std::tuple<int64_t, int64_t, int64_t>> heads;
  for (const Measurement& m : plan->points) {
    ASSERT_TRUE(IsAttention(m.op));
    EXPECT_EQ(m.dtype, Dtype::kBf16);
    heads.insert({m.heads, m.kv_heads, m.head_dim});
    if (m.op == Op::kAttnPrefill) {
      EXPECT_EQ(m.batch, 1);
      // Llama-2-7B's 4096-token context bounds its prefill points.
      if (m.sources.size() == 1 && m.sources[0].rfind("Llama-2-7B", 0) == 0) {
        EXPECT_LE(m.q_tokens + m.kv_tokens, 4096) << m.Describe();
      }
    } else {
      EXPECT_EQ(m.q_tokens, 1);
      EXPECT_LE(DecodeKvCacheBytes(m), 8e9) << m.Describe();
    }
  }
  // Llama-2-7B: 32/32 heads -> 32/32, 16/16, 8/8, 4/4; Llama-3.1-70B: 64/8 -> 64/8, 32/4, 16/2, 8/1.
  std::set<std::tuple<int64_t, int64_t, int64_t>> want = {{32, 32, 128}, {16, 16, 128}, {8, 8, 128}, {4, 4, 128},
                                                          {64, 8, 128},  {32, 4, 128},  {16, 2, 128}, {8, 1, 128}};
  EXPECT_EQ(heads, want);
  bool long_context = false;  // Llama-3.1-70B allows 16384 + 16384
  for (const Measurement& m : plan->points) long_context |= m.op == Op::kAttnPrefill && m.q_tokens + m.kv_tokens > 8192;
  EXPECT_TRUE(long_context);
  bool fp8_note = false, mem_note = false;
  for (const std::string& n : plan->notes) {
    fp8_note |= n.find("attention: fp8 not measured") != std::string::npos;
    mem_note |= n.find("KV cache exceeds") != std::string::npos;
  }
  EXPECT_TRUE(fp8_note);
  EXPECT_TRUE(mem_note);
}

TEST(MicrobenchPlan, CollectivesNeedTwoRanksAndWholeElements) {
  PlanOptions o = PlanOptions::Defaults(true);
  o.ops = {OpGroup::kCollectives};
  o.ranks = 1;
  auto plan = BuildPlan({}, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->points.empty());
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("need at least 2"), std::string::npos);
  o.ranks = 3;
  plan = BuildPlan({}, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->points.size(), 11u * 4);  // 1 KiB..1 GiB x4
  for (const Measurement& m : plan->points) {
    EXPECT_EQ(m.ranks, 3);
    EXPECT_EQ(m.dtype, Dtype::kBf16);
    EXPECT_EQ(m.bytes % (3 * 2), 0) << m.bytes;
    EXPECT_GT(m.bytes, 1000);
  }
}

TEST(MicrobenchPlan, QuickPlanFitsFiveMinutesOnH100) {
  const GpuSpec* h100 = RealCatalog().FindGpu("H100-SXM-80GB");
  ASSERT_NE(h100, nullptr);
  auto models = SelectModels(RealCatalog(), {});
  ASSERT_TRUE(models.ok());
  MethodOptions quick_method;
  quick_method.stop.max_seconds = 0.5;
  quick_method.steady_window_seconds = 0;  // --quick has no steady windows unless asked
  PlanOptions quick = PlanOptions::Defaults(true);
  quick.ranks = 1;  // one GPU, as the 5-minute promise is for one GPU
  quick.max_kv_cache_bytes = 0.4 * h100->hbm_gb * 1e9;
  auto qp = BuildPlan(*models, quick);
  ASSERT_TRUE(qp.ok());
  const PlanEstimate qe = EstimatePlan(*qp, *h100, quick_method);
  EXPECT_LE(qe.total_seconds, 300) << FormatPlanSummary(*qp, quick, qe, *h100);
  EXPECT_GT(qe.total_seconds, 30);
  // Even with 8 GPUs' collectives it stays within the budget.
  quick.ranks = 8;
  auto qp8 = BuildPlan(*models, quick);
  ASSERT_TRUE(qp8.ok());
  EXPECT_LE(EstimatePlan(*qp8, *h100, quick_method).total_seconds, 300);

  PlanOptions full = PlanOptions::Defaults(false);
  full.ranks = 8;
  full.max_kv_cache_bytes = quick.max_kv_cache_bytes;
  auto fp = BuildPlan(*models, full);
  ASSERT_TRUE(fp.ok());
  const PlanEstimate fe = EstimatePlan(*fp, *h100, MethodOptions());
  EXPECT_GT(fp->points.size(), 5 * qp->points.size());
  EXPECT_GT(fe.total_seconds, 4 * qe.total_seconds);
  // A slower GPU takes longer for the same plan; a power sweep repeats it.
  const GpuSpec* a10g = RealCatalog().FindGpu("A10G");
  ASSERT_NE(a10g, nullptr);
  EXPECT_GT(EstimatePlan(*fp, *a10g, MethodOptions()).total_seconds, fe.total_seconds);
  EXPECT_GT(EstimatePlan(*qp, *h100, quick_method, 3).total_seconds, 3 * qe.total_seconds);
}

TEST(MicrobenchPlan, EstimatesFollowTheRoofline) {
  const GpuSpec* h100 = RealCatalog().FindGpu("H100-SXM-80GB");
  ASSERT_NE(h100, nullptr);
  Measurement big;
  big.op = Op::kGemm;
  big.dtype = Dtype::kBf16;
  big.m = big.n = big.k = 8192;
  Measurement big8 = big;
  big8.dtype = Dtype::kFp8;
  // Compute bound: 2 * 8192^3 FLOP at ~70% of 989 TFLOP/s is ~1.6 ms; fp8 twice as fast.
  EXPECT_NEAR(EstimateCallSeconds(big, *h100), 2.0 * 8192 * 8192 * 8192 / (0.7 * 989.4e12), 1e-5);
  EXPECT_LT(EstimateCallSeconds(big8, *h100), 0.6 * EstimateCallSeconds(big, *h100));
  Measurement copy;
  copy.op = Op::kHbmCopy;
  copy.bytes = int64_t{2} << 30;
  EXPECT_NEAR(EstimateCallSeconds(copy, *h100), 2.0 * (1 << 30) / (0.85 * 3350e9), 1e-5);
  // A point costs at least its minimum repetitions.
  MethodOptions method;
  EXPECT_GE(EstimatePointSeconds(big, *h100, method), 10 * EstimateCallSeconds(big, *h100));
}

TEST(MicrobenchPlan, DryRunSummaryAndList) {
  const GpuSpec* h100 = RealCatalog().FindGpu("H100-SXM-80GB");
  PlanOptions o = PlanOptions::Defaults(true);
  o.ranks = 8;
  auto plan = BuildPlan({Model("Llama-3-8B")}, o);
  ASSERT_TRUE(plan.ok());
  const PlanEstimate e = EstimatePlan(*plan, *h100, MethodOptions());
  const std::string summary = FormatPlanSummary(*plan, o, e, *h100);
  for (const char* s : {"models (1): Llama-3-8B", "gemm", "attn_prefill", "attn_decode", "hbm_copy", "launch",
                        "all_reduce", "total", "H100-SXM-80GB"}) {
    EXPECT_NE(summary.find(s), std::string::npos) << s << "\n" << summary;
  }
  const std::string list = FormatPlanList(*plan, *h100, MethodOptions());
  EXPECT_EQ(static_cast<size_t>(std::count(list.begin(), list.end(), '\n')), plan->points.size());
  EXPECT_NE(list.find("<- Llama-3-8B tp"), std::string::npos);
  EXPECT_EQ(FormatDuration(42.2), "43 s");
  EXPECT_EQ(FormatDuration(290), "4 min 50 s");
  EXPECT_EQ(FormatDuration(7500), "2 h 05 min");
}

TEST(MicrobenchPlan, UnknownModelAndBadOptions) {
  auto models = SelectModels(RealCatalog(), {"Llama-3-70B", "Lama-3-70B"});
  ASSERT_FALSE(models.ok());
  EXPECT_NE(models.status().message().find("unknown model 'Lama-3-70B' (did you mean 'Llama-3-70B'?)"),
            std::string::npos)
      << models.status();
  PlanOptions o = GemmOnly({0});
  EXPECT_FALSE(BuildPlan({}, o).ok());
}

TEST(MicrobenchPlan, ListFlags) {
  EXPECT_EQ(*ParseIntList("--tp", "1, 2,4"), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(*ParseSizeList("--sizes", "1K,64M,1G,7"),
            (std::vector<int64_t>{1024, 64 << 20, int64_t{1} << 30, 7}));
  auto bad = ParseIntList("--tp", "1,x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--tp: 'x' is not a positive integer; expected"), std::string::npos);
  EXPECT_FALSE(ParseIntList("--tp", "0").ok());
  EXPECT_FALSE(ParseIntList("--tp", "").ok());
  EXPECT_EQ(*ParseOpGroups("--ops", "gemm,collectives"), (std::vector<OpGroup>{OpGroup::kGemm, OpGroup::kCollectives}));
  EXPECT_FALSE(ParseOpGroups("--ops", "gemm,gemv").ok());
  EXPECT_EQ(*ParseDtypes("--dtypes", "bf16,fp8"), (std::vector<Dtype>{Dtype::kBf16, Dtype::kFp8}));
  EXPECT_FALSE(ParseDtypes("--dtypes", "int8").ok());
  EXPECT_EQ(*ParsePositiveList("--power-limits", "300,450.5"), (std::vector<double>{300, 450.5}));
  EXPECT_FALSE(ParsePositiveList("--power-limits", "300,-1").ok());
}

}  // namespace
}  // namespace gpufleet::microbench
