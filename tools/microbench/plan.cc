// Building the measurement plan from the catalog models and the sweep options (see plan.h).
#include "tools/microbench/plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/yaml_fields.h"
#include "tools/microbench/attention_layout.h"

namespace gpufleet::microbench {
namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kGiB = 1024 * kMiB;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::vector<int64_t> Geometric(int64_t from, int64_t to, int64_t factor) {
  std::vector<int64_t> v;
  for (int64_t x = from; x <= to; x *= factor) v.push_back(x);
  return v;
}

bool Has(const std::vector<Dtype>& v, Dtype d) { return std::find(v.begin(), v.end(), d) != v.end(); }

// Collects points, merging duplicates (same CSV key) and their sources.
class PointSet {
 public:
  void Add(Measurement m, const std::string& source) {
    if (!IsAttention(m.op)) m.kernel = DefaultKernel(m.op);
    auto [it, inserted] = index_.try_emplace(m.Key(), points_.size());
    if (inserted) {
      if (!source.empty()) m.sources.push_back(source);
      points_.push_back(std::move(m));
    } else if (!source.empty()) {
      auto& s = points_[it->second].sources;
      if (std::find(s.begin(), s.end(), source) == s.end()) s.push_back(source);
    }
  }
  // Sorted by key within the op order given.
  std::vector<Measurement> Take() {
    std::vector<Measurement> out = std::move(points_);
    std::stable_sort(out.begin(), out.end(), [](const Measurement& a, const Measurement& b) {
      return a.Key() < b.Key();
    });
    return out;
  }

 private:
  std::vector<Measurement> points_;
  std::map<decltype(Measurement().Key()), size_t> index_;
};

absl::Status CheckPositive(const char* what, const std::vector<int64_t>& values) {
  for (int64_t v : values) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(what, " contains ", v, "; expected positive values"));
  }
  return absl::OkStatus();
}

void AddGemmPoints(const std::vector<LlmSpec>& models, const PlanOptions& o, const std::vector<Dtype>& dtypes,
                   PointSet* set) {
  for (const LlmSpec& model : models) {
    for (int tp : TpDegreesFor(model, o.tp)) {
      std::vector<GemmShape> shapes;
      for (int64_t t : o.tokens) {
        for (GemmShape& s : LayerGemmShapes(model, tp, t)) shapes.push_back(std::move(s));
      }
      for (int64_t b : o.lm_head_batches) shapes.push_back(LmHeadShape(model, tp, b));
      for (const GemmShape& s : shapes) {
        for (Dtype d : dtypes) {
          Measurement m;
          m.op = Op::kGemm;
          m.dtype = d;
          m.m = s.m;
          m.n = s.n;
          m.k = s.k;
          m.steady = ArithmeticIntensity(m) >= o.steady_min_intensity;
          set->Add(m, absl::StrCat(model.name, " tp", tp, " ", s.role));
        }
      }
    }
  }
  for (int64_t s : o.square_sizes) {
    for (Dtype d : dtypes) {
      Measurement m;
      m.op = Op::kGemm;
      m.dtype = d;
      m.m = m.n = m.k = s;
      m.steady = ArithmeticIntensity(m) >= o.steady_min_intensity;
      set->Add(m, "square");
    }
  }
}

void AddAttentionPoints(const std::vector<LlmSpec>& models, const PlanOptions& o, Plan* plan, PointSet* set) {
  std::vector<Dtype> dtypes;
  for (Dtype d : o.dtypes) {
    if (d == Dtype::kFp16 || d == Dtype::kBf16) dtypes.push_back(d);
  }
  if (Has(o.dtypes, Dtype::kFp8)) plan->notes.push_back("attention: fp8 not measured (the kernels are fp16/bf16)");
  if (dtypes.empty()) {
    plan->notes.push_back("attention: skipped (needs fp16 or bf16 in --dtypes)");
    return;
  }
  int64_t dropped_memory = 0;
  for (const LlmSpec& model : models) {
    for (int tp : TpDegreesFor(model, o.tp)) {
      const AttentionHeads h = PerGpuHeads(model, tp);
      const std::string source = absl::StrCat(model.name, " tp", tp);
      for (Kernel kernel : o.attention_kernels) {
      if (kernel == Kernel::kReference && !AttentionHeadDimSupported(static_cast<int>(h.head_dim))) {
        plan->notes.push_back(absl::StrCat(model.name, " tp", tp, ": reference attention skipped (head_dim ",
                                           h.head_dim, " is not one the reference kernels support)"));
        continue;
      }
      // cuDNN's fused attention takes head dims that are multiples of 8 up to 256.
      if (kernel == Kernel::kCudnnSdpa && (h.head_dim % 8 != 0 || h.head_dim > 256)) {
        plan->notes.push_back(absl::StrCat(model.name, " tp", tp, ": cudnn_sdpa attention skipped (head_dim ",
                                           h.head_dim, ")"));
        continue;
      }
      for (Dtype d : dtypes) {
        for (int64_t q : o.prefill_q_tokens) {
          for (int64_t ctx : o.prefill_kv_tokens) {
            if (model.max_context > 0 && q + ctx > model.max_context) continue;
            Measurement m;
            m.op = Op::kAttnPrefill;
            m.dtype = d;
            m.batch = o.prefill_batch;
            m.q_tokens = q;
            m.kv_tokens = ctx;
            m.heads = h.heads;
            m.kv_heads = h.kv_heads;
            m.head_dim = h.head_dim;
            m.kernel = kernel;
            m.steady = ArithmeticIntensity(m) >= o.steady_min_intensity;
            set->Add(m, source);
          }
        }
        for (int64_t b : o.decode_batches) {
          for (int64_t kv : o.decode_kv_tokens) {
            if (model.max_context > 0 && kv + 1 > model.max_context) continue;
            Measurement m;
            m.op = Op::kAttnDecode;
            m.dtype = d;
            m.batch = b;
            m.q_tokens = 1;
            m.kv_tokens = kv;
            m.heads = h.heads;
            m.kv_heads = h.kv_heads;
            m.head_dim = h.head_dim;
            m.kernel = kernel;
            if (o.max_kv_cache_bytes > 0 && DecodeKvCacheBytes(m) > o.max_kv_cache_bytes) {
              ++dropped_memory;
              continue;
            }
            set->Add(m, source);
          }
        }
      }
      }
    }
  }
  if (dropped_memory > 0) {
    plan->notes.push_back(absl::StrCat("attn_decode: ", dropped_memory, " model points dropped whose KV cache exceeds ",
                                       static_cast<int64_t>(o.max_kv_cache_bytes / 1e9), " GB"));
  }
}

void AddMemoryPoints(const PlanOptions& o, PointSet* set) {
  for (int64_t b : o.hbm_buffer_bytes) {
    Measurement copy;
    copy.op = Op::kHbmCopy;
    copy.bytes = 2 * b;
    set->Add(copy, "");
    Measurement triad;
    triad.op = Op::kHbmTriad;
    triad.bytes = 3 * b;
    set->Add(triad, "");
  }
  for (int64_t b : o.host_copy_bytes) {
    for (Op op : {Op::kH2D, Op::kD2H}) {
      Measurement m;
      m.op = op;
      m.bytes = b;
      set->Add(m, "");
    }
  }
}

void AddCollectivePoints(const PlanOptions& o, Plan* plan, PointSet* set) {
  if (o.ranks < 2) {
    plan->notes.push_back(absl::StrCat("collectives: skipped (", o.ranks, " GPU", o.ranks == 1 ? "" : "s",
                                       "; they need at least 2)"));
    return;
  }
  Dtype d = Has(o.dtypes, Dtype::kBf16) ? Dtype::kBf16 : Has(o.dtypes, Dtype::kFp16) ? Dtype::kFp16 : Dtype::kBf16;
  // bytes is the full buffer (nccl-tests' "size"); keep it a whole number of elements per rank.
  const int64_t granule = o.ranks * DtypeBytes(d);
  for (int64_t b : o.collective_bytes) {
    const int64_t bytes = std::max(granule, b / granule * granule);
    for (Op op : {Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kSendRecv}) {
      Measurement m;
      m.op = op;
      m.dtype = d;
      m.bytes = bytes;
      m.ranks = o.ranks;
      set->Add(m, "");
    }
  }
}

}  // namespace

std::string Measurement::Describe() const {
  std::string s = OpName(op);
  if (dtype != Dtype::kNone) absl::StrAppend(&s, " ", DtypeName(dtype));
  if (op == Op::kGemm) absl::StrAppend(&s, " m=", m, " n=", n, " k=", k);
  if (IsAttention(op)) {
    absl::StrAppend(&s, " batch=", batch, " q=", q_tokens, " kv=", kv_tokens, " heads=", heads, "/", kv_heads,
                    " d=", head_dim);
  }
  if (bytes > 0) absl::StrAppend(&s, " bytes=", bytes);
  if (IsCollective(op)) absl::StrAppend(&s, " ranks=", ranks);
  if (IsAttention(op)) absl::StrAppend(&s, " [", KernelName(kernel), "]");
  if (timing) absl::StrAppend(&s, " [", TimingModeName(*timing), "]");
  return s;
}

bool PlanOptions::Selects(OpGroup group) const {
  return ops.empty() || std::find(ops.begin(), ops.end(), group) != ops.end();
}

int64_t Plan::Count(Op op) const {
  return std::count_if(points.begin(), points.end(), [op](const Measurement& m) { return m.op == op; });
}

PlanOptions PlanOptions::Defaults(bool quick) {
  PlanOptions o;
  o.tp = {1, 2, 4, 8};
  o.dtypes = {Dtype::kFp16, Dtype::kBf16, Dtype::kFp8};
  if (quick) {
    o.tokens = {1, 16, 128, 1024, 4096};
    o.lm_head_batches = {1, 64};
    o.square_sizes = {1024, 4096, 8192};
    o.prefill_q_tokens = {512, 2048};
    o.prefill_kv_tokens = {0, 2048};
    o.decode_batches = {1, 16, 128};
    o.decode_kv_tokens = {512, 4096};
    // One size inside L2 (labelled: it measures the cache) and four beyond 2 x L2 of current GPUs, so
    // calibrate has its six memory-model rows.
    o.hbm_buffer_bytes = {4 * kMiB, 64 * kMiB, 256 * kMiB, 512 * kMiB, 1 * kGiB};
    o.host_copy_bytes = {64 * kKiB, 1 * kMiB, 16 * kMiB, 256 * kMiB};
    o.collective_bytes = Geometric(kKiB, kGiB, 4);
  } else {
    o.tokens = {1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192,
                12288, 16384};
    o.lm_head_batches = Geometric(1, 1024, 2);
    o.square_sizes = Geometric(256, 16384, 2);
    o.prefill_q_tokens = {128, 256, 512, 1024, 2048, 4096, 8192, 16384};
    o.prefill_kv_tokens = {0, 1024, 4096, 16384};
    o.decode_batches = Geometric(1, 256, 2);
    o.decode_kv_tokens = {128, 512, 1024, 2048, 4096, 8192, 16384, 32768};
    o.hbm_buffer_bytes = Geometric(kMiB, kGiB, 2);
    o.host_copy_bytes = Geometric(4 * kKiB, kGiB, 4);
    o.collective_bytes = Geometric(kKiB, kGiB, 2);
  }
  return o;
}

absl::StatusOr<std::vector<LlmSpec>> SelectModels(const Catalog& catalog, const std::vector<std::string>& names) {
  std::vector<LlmSpec> out;
  if (names.empty()) {
    for (const auto& [name, spec] : catalog.llms()) out.push_back(spec);
    return out;
  }
  for (const std::string& name : names) {
    const LlmSpec* spec = catalog.FindLlm(name);
    if (spec == nullptr) {
      std::string hint;
      if (std::string c = ClosestMatch(name, catalog.LlmNames()); !c.empty()) hint = absl::StrCat(" (did you mean '", c, "'?)");
      return absl::InvalidArgumentError(absl::StrCat("unknown model '", name, "'", hint,
                                                     "; expected one of the catalog's models: ",
                                                     absl::StrJoin(catalog.LlmNames(), ", ")));
    }
    out.push_back(*spec);
  }
  return out;
}

std::vector<int> TpDegreesFor(const LlmSpec& model, const std::vector<int>& tp) {
  std::vector<int> out;
  for (int t : tp) {
    if (t > 0 && model.heads % t == 0 && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

AttentionHeads PerGpuHeads(const LlmSpec& model, int tp) {
  AttentionHeads h;
  h.heads = model.heads / tp;
  h.kv_heads = std::max<int64_t>(1, model.kv_heads / tp);
  h.head_dim = model.head_dim > 0 ? model.head_dim : model.hidden / model.heads;
  return h;
}

std::vector<GemmShape> LayerGemmShapes(const LlmSpec& model, int tp, int64_t tokens) {
  const AttentionHeads h = PerGpuHeads(model, tp);
  const int64_t hidden = model.hidden;
  std::vector<GemmShape> out;
  out.push_back({"qkv", tokens, (h.heads + 2 * h.kv_heads) * h.head_dim, hidden});
  out.push_back({"o", tokens, hidden, h.heads * h.head_dim});
  const bool moe = model.num_experts > 1;
  const int64_t mlp_tokens =
      moe ? std::max<int64_t>(1, CeilDiv(tokens * model.experts_per_token, model.num_experts)) : tokens;
  const int64_t ffn = CeilDiv(model.ffn, tp);
  const std::string prefix = moe ? "expert_" : "";
  out.push_back({prefix + "up", mlp_tokens, (model.gated_mlp ? 2 : 1) * ffn, hidden});
  out.push_back({prefix + "down", mlp_tokens, hidden, ffn});
  // The router scores every token against every expert (replicated on each rank).
  if (moe) out.push_back({"router", tokens, model.num_experts, hidden});
  return out;
}

int64_t PaddedVocab(int64_t vocab) { return CeilDiv(vocab, 64) * 64; }

GemmShape LmHeadShape(const LlmSpec& model, int tp, int64_t batch) {
  return {"lm_head", batch, CeilDiv(PaddedVocab(model.vocab), tp), model.hidden};
}

double ArithmeticIntensity(const Measurement& m) {
  const double e = DtypeBytes(m.dtype);
  if (m.op == Op::kGemm) {
    const double bytes = e * static_cast<double>(m.m * m.k + m.n * m.k) + 2.0 * static_cast<double>(m.m * m.n);
    return bytes > 0 ? 2.0 * static_cast<double>(m.m) * static_cast<double>(m.n) * static_cast<double>(m.k) / bytes
                     : 0;
  }
  if (!IsAttention(m.op)) return 0;
  const double b = m.batch, q = m.op == Op::kAttnDecode ? 1 : m.q_tokens, c = m.kv_tokens, d = m.head_dim;
  const double flops = 4.0 * d * m.heads * b * (m.op == Op::kAttnDecode ? c + 1 : q * c + q * (q + 1) / 2);
  const double bytes = e * (2.0 * b * (c + q) * m.kv_heads * d + 2.0 * b * q * m.heads * d);
  return bytes > 0 ? flops / bytes : 0;
}

double DecodeKvCacheBytes(const Measurement& d) {
  const int64_t blocks_per_seq = CeilDiv(d.kv_tokens + 1, kPagedBlockSize);
  return 2.0 * static_cast<double>(d.batch * blocks_per_seq * kPagedBlockSize) * static_cast<double>(d.kv_heads) *
         static_cast<double>(d.head_dim) * DtypeBytes(d.dtype);
}

absl::StatusOr<Plan> BuildPlan(const std::vector<LlmSpec>& models, const PlanOptions& o) {
  for (auto [what, values] :
       {std::pair{"token counts", &o.tokens}, std::pair{"LM-head batches", &o.lm_head_batches},
        std::pair{"square sizes", &o.square_sizes}, std::pair{"prefill q_tokens", &o.prefill_q_tokens},
        std::pair{"decode batches", &o.decode_batches}, std::pair{"memory sizes", &o.hbm_buffer_bytes},
        std::pair{"host copy sizes", &o.host_copy_bytes}, std::pair{"collective sizes", &o.collective_bytes}}) {
    if (absl::Status s = CheckPositive(what, *values); !s.ok()) return s;
  }
  for (int64_t v : o.prefill_kv_tokens) {
    if (v < 0) return absl::InvalidArgumentError(absl::StrCat("prefill context ", v, "; expected >= 0"));
  }
  for (int64_t v : o.decode_kv_tokens) {
    if (v < 0) return absl::InvalidArgumentError(absl::StrCat("decode KV length ", v, "; expected >= 0"));
  }
  for (int t : o.tp) {
    if (t <= 0) return absl::InvalidArgumentError(absl::StrCat("TP degree ", t, "; expected a positive integer"));
  }
  if (o.prefill_batch <= 0) return absl::InvalidArgumentError("prefill batch must be positive");

  Plan plan;
  for (const LlmSpec& m : models) plan.models.push_back(m.name);
  std::vector<Dtype> gemm_dtypes;
  for (Dtype d : o.dtypes) {
    if (d == Dtype::kFp8 && !o.fp8_supported) {
      plan.notes.push_back("gemm: fp8 skipped (this GPU has no fp8 tensor cores)");
      continue;
    }
    if (d == Dtype::kNone || Has(gemm_dtypes, d)) continue;
    gemm_dtypes.push_back(d);
  }

  if (o.Selects(OpGroup::kGemm) || o.Selects(OpGroup::kAttention)) {
    for (const LlmSpec& model : models) {
      const std::vector<int> tps = TpDegreesFor(model, o.tp);
      for (int tp : o.tp) {
        if (std::find(tps.begin(), tps.end(), tp) == tps.end()) {
          plan.notes.push_back(absl::StrCat(model.name, ": TP ", tp, " skipped (", model.heads,
                                            " heads are not divisible by ", tp, ")"));
        }
      }
    }
  }
  // Each group gets its own set so that the run order is by group, sorted by shape inside.
  auto take = [&plan](PointSet& s) {
    for (Measurement& m : s.Take()) plan.points.push_back(std::move(m));
  };
  if (o.Selects(OpGroup::kLaunch)) {
    // Host launches (the launch-bound figure: CPU issue rate) and graph replays (the GPU's per-kernel cost).
    PointSet s;
    for (TimingMode t : {TimingMode::kLaunch, TimingMode::kGraph}) {
      Measurement m;
      m.op = Op::kLaunch;
      m.timing = t;
      s.Add(m, "");
    }
    take(s);
  }
  if (o.Selects(OpGroup::kMemory)) {
    PointSet s;
    AddMemoryPoints(o, &s);
    take(s);
  }
  if (o.Selects(OpGroup::kGemm)) {
    PointSet s;
    AddGemmPoints(models, o, gemm_dtypes, &s);
    take(s);
  }
  if (o.Selects(OpGroup::kAttention)) {
    PointSet s;
    AddAttentionPoints(models, o, &plan, &s);
    take(s);
  }
  if (o.Selects(OpGroup::kCollectives)) {
    PointSet s;
    AddCollectivePoints(o, &plan, &s);
    take(s);
  }
  return plan;
}

}  // namespace gpufleet::microbench
