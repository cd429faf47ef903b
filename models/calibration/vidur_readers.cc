// Readers for the kernel profiles published with Vidur (data/profiling): per-operator compute times
// (compute/<gpu>/<org>/<model>/mlp.csv) and NCCL collective times (network/<node>/<collective>.csv).
#include <algorithm>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "models/calibration/csv_table.h"
#include "models/calibration/measurements.h"
#include "traces/csv_fields.h"

namespace gpufleet {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr double kMsToS = 1e-3;
constexpr double kDtypeBytes = 2;  // vidur profiles fp16/bf16

// ---------------------------------------------------------------------------------------------------
// Compute profiles (mlp.csv)

enum class Op { kEmb, kInputNorm, kPreProj, kRope, kPostProj, kPostAttnNorm, kUpProj, kAct, kDownProj, kAdd };
struct OpInfo {
  Op op;
  const char* name;
  bool gemm;
};
// vidur's operators in the file's column order. phi-2 profiles have no post_attention_layernorm (its
// attention and MLP share one input layernorm); an op absent from the header is skipped.
constexpr OpInfo kOps[] = {
    {Op::kEmb, "emb", false},
    {Op::kInputNorm, "input_layernorm", false},
    {Op::kPreProj, "attn_pre_proj", true},
    {Op::kRope, "attn_rope", false},
    {Op::kPostProj, "attn_post_proj", true},
    {Op::kPostAttnNorm, "post_attention_layernorm", false},
    {Op::kUpProj, "mlp_up_proj", true},
    {Op::kAct, "mlp_act", false},
    {Op::kDownProj, "mlp_down_proj", true},
    {Op::kAdd, "add", false},
};

constexpr const char* kComputeColumns =
    "time_stats.<op>.{min,max,mean,median,std} for ops among emb, input_layernorm, attn_pre_proj, "
    "attn_rope, attn_post_proj, post_attention_layernorm, mlp_up_proj, mlp_act, mlp_down_proj, add, "
    "then n_head, n_kv_head, n_embd, n_expanded_embd, vocab_size, use_gated_mlp, num_tokens, "
    "num_tensor_parallel_workers (vidur mlp.csv)";

// The model shape and batch of one row, validated.
struct RowShape {
  int64_t n_head, n_kv_head, n_embd, ffn, tokens, tp;
  bool gated;
  int64_t head_dim() const { return n_embd / n_head; }
  int64_t q_heads() const { return n_head / tp; }  // query heads on one GPU
  // KV heads on one GPU (kv_local); with fewer KV heads than GPUs each GPU keeps a replica of one.
  int64_t kv_heads() const { return std::max<int64_t>(1, n_kv_head / tp); }
};

// Per-GPU GEMM shape (C[m x n] = A[m x k] * B[k x n]) under Megatron tensor parallelism: QKV and MLP-up
// weights are split by output columns, output-projection and MLP-down weights by input rows.
void SetGemmShape(Op op, const RowShape& s, GemmSample* g) {
  g->m = s.tokens;
  switch (op) {
    case Op::kPreProj:  // fused QKV: this GPU's query heads plus its K and V heads
      g->n = (s.q_heads() + 2 * s.kv_heads()) * s.head_dim();
      g->k = s.n_embd;
      break;
    case Op::kPostProj:  // attention output: this GPU's heads back to the model width
      g->n = s.n_embd;
      g->k = s.q_heads() * s.head_dim();
      break;
    case Op::kUpProj:  // gated MLPs fuse gate and up projections
      g->n = (s.gated ? 2 : 1) * s.ffn / s.tp;
      g->k = s.n_embd;
      break;
    default:  // Op::kDownProj
      g->n = s.n_embd;
      g->k = s.ffn / s.tp;
      break;
  }
}

// Bytes a memory-bound kernel reads plus writes for T = tokens (2-byte dtype; weights such as the norm
// scales are negligible next to the activations):
//   input_layernorm, post_attention_layernorm: read and write T x n_embd     -> 2*T*n_embd*2
//   attn_rope: read and write this GPU's Q and K heads -> 2*T*(n_head/tp + kv_local)*head_dim*2
//   mlp_act, gated: read gate and up halves, write one -> 3*T*ffn/tp*2; plain: read one, write one
//                   -> 2*T*ffn/tp*2
//   add (residual): read two T x n_embd tensors, write one                   -> 3*T*n_embd*2
//   emb: gather T embedding rows, write them                                  -> 2*T*n_embd*2
double ElementwiseBytes(Op op, const RowShape& s) {
  const double t = static_cast<double>(s.tokens);
  switch (op) {
    case Op::kInputNorm:
    case Op::kPostAttnNorm:
    case Op::kEmb:
      return 2 * t * s.n_embd * kDtypeBytes;
    case Op::kRope:
      return 2 * t * (s.q_heads() + s.kv_heads()) * s.head_dim() * kDtypeBytes;
    case Op::kAct:
      return (s.gated ? 3 : 2) * t * (s.ffn / s.tp) * kDtypeBytes;
    default:  // Op::kAdd
      return 3 * t * s.n_embd * kDtypeBytes;
  }
}

struct ComputeColumns {
  int n_head, n_kv_head, n_embd, ffn, vocab, gated, tokens, tp;
  std::vector<std::pair<const OpInfo*, int>> ops;  // present ops and their median column
};

absl::Status FindComputeColumns(const CsvTable& t, ComputeColumns* c) {
  const std::pair<const char*, int*> shape_columns[] = {
      {"n_head", &c->n_head},     {"n_kv_head", &c->n_kv_head},
      {"n_embd", &c->n_embd},     {"n_expanded_embd", &c->ffn},
      {"vocab_size", &c->vocab},  {"use_gated_mlp", &c->gated},
      {"num_tokens", &c->tokens}, {"num_tensor_parallel_workers", &c->tp}};
  for (auto [name, index] : shape_columns) {
    if (absl::Status s = t.Require(name, index); !s.ok()) return s;
  }
  for (const OpInfo& op : kOps) {
    const int column = t.Find(absl::StrCat("time_stats.", op.name, ".median"));
    if (column >= 0) c->ops.emplace_back(&op, column);
  }
  if (c->ops.empty()) return t.HeaderError("the header has no time_stats.<op>.median column");
  return absl::OkStatus();
}

absl::Status ParseRowShape(const CsvTable& t, const ComputeColumns& c, RowShape* s) {
  int64_t vocab;
  const std::pair<int, int64_t*> ints[] = {
      {c.n_head, &s->n_head}, {c.n_kv_head, &s->n_kv_head}, {c.n_embd, &s->n_embd}, {c.ffn, &s->ffn},
      {c.vocab, &vocab},      {c.tokens, &s->tokens},       {c.tp, &s->tp}};
  for (auto [column, out] : ints) {
    if (absl::Status st = t.Int(column, 1, kMaxInt, out); !st.ok()) return st;
  }
  const absl::string_view gated = t.Field(c.gated);
  if (gated != "True" && gated != "False") {
    return t.RowError(absl::StrCat("use_gated_mlp is ", QuoteField(gated), "; expected True or False"));
  }
  s->gated = gated == "True";
  if (s->n_head % s->tp != 0) {
    return t.RowError(absl::StrCat("num_tensor_parallel_workers ", s->tp, " does not divide n_head ",
                                   s->n_head, "; expected a degree that splits the heads evenly"));
  }
  if (s->n_embd % s->n_head != 0) {
    return t.RowError(absl::StrCat("n_embd ", s->n_embd, " is not a multiple of n_head ", s->n_head,
                                   "; expected whole heads"));
  }
  if (s->n_kv_head > s->n_head || s->n_head % s->n_kv_head != 0) {
    return t.RowError(absl::StrCat("n_kv_head ", s->n_kv_head, " does not divide n_head ", s->n_head,
                                   "; expected equal query groups"));
  }
  if (s->n_kv_head % s->tp != 0 && s->tp % s->n_kv_head != 0) {
    return t.RowError(
        absl::StrCat("n_kv_head ", s->n_kv_head, " and num_tensor_parallel_workers ", s->tp,
                     " do not divide one another; expected KV heads split or replicated evenly"));
  }
  if (s->ffn % s->tp != 0) {
    return t.RowError(absl::StrCat("num_tensor_parallel_workers ", s->tp, " does not divide n_expanded_embd ",
                                   s->ffn, "; expected an even MLP split"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------------
// Network profiles (all_reduce.csv, send_recv.csv)

constexpr const char* kNetworkColumns =
    "an unnamed index, time_stats.<collective>.{min,max,mean,median,std} with <collective> all_reduce "
    "or send_recv, rank, num_workers, size, collective, devices_per_node, max_devices_per_node "
    "(vidur network profile)";

}  // namespace

absl::StatusOr<VidurComputeSet> ReadVidurCompute(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CsvTable>> table = CsvTable::Open(path, kComputeColumns);
  if (!table.ok()) return table.status();
  CsvTable& t = **table;
  ComputeColumns c;
  if (absl::Status s = FindComputeColumns(t, &c); !s.ok()) return s;
  SampleOrigin origin{path, 0, std::filesystem::path(path).parent_path().filename().string()};
  VidurComputeSet set;
  int64_t rows = 0;
  for (;;) {
    absl::StatusOr<bool> more = t.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++rows;
    RowShape shape;
    if (absl::Status s = ParseRowShape(t, c, &shape); !s.ok()) return s;
    origin.row = t.row();
    for (auto [op, column] : c.ops) {
      double ms;
      if (absl::Status s = t.PositiveNumber(column, "milliseconds", &ms); !s.ok()) return s;
      if (op->gemm) {
        GemmSample& g = set.gemms.emplace_back();
        g.origin = origin;
        g.op = op->name;
        SetGemmShape(op->op, shape, &g);
        g.tensor_parallel = static_cast<int>(shape.tp);
        g.time_s = ms * kMsToS;
      } else {
        ElementwiseSample& e = set.elementwise.emplace_back();
        e.origin = origin;
        e.op = op->name;
        e.bytes = ElementwiseBytes(op->op, shape);
        e.tokens = shape.tokens;
        e.tensor_parallel = static_cast<int>(shape.tp);
        e.time_s = ms * kMsToS;
      }
    }
  }
  if (rows == 0) return NoMeasurementRows(path);
  return set;
}

absl::StatusOr<VidurComputeSet> ReadVidurComputeDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() == "mlp.csv" && it->is_regular_file(ec)) paths.push_back(it->path().string());
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": cannot list the directory: ", ec.message()));
  if (paths.empty()) return absl::NotFoundError(absl::StrCat(dir, ": no mlp.csv below it"));
  std::sort(paths.begin(), paths.end());
  VidurComputeSet all;
  for (const std::string& path : paths) {
    absl::StatusOr<VidurComputeSet> one = ReadVidurCompute(path);
    if (!one.ok()) return one.status();
    all.gemms.insert(all.gemms.end(), std::make_move_iterator(one->gemms.begin()),
                     std::make_move_iterator(one->gemms.end()));
    all.elementwise.insert(all.elementwise.end(), std::make_move_iterator(one->elementwise.begin()),
                           std::make_move_iterator(one->elementwise.end()));
  }
  return all;
}

absl::StatusOr<std::vector<CollectiveSample>> ReadVidurNetwork(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CsvTable>> table = CsvTable::Open(path, kNetworkColumns);
  if (!table.ok()) return table.status();
  CsvTable& t = **table;
  // The collective is named by the header's time_stats.<collective>.median column.
  std::string collective;
  int time = -1;
  for (size_t i = 0; i < t.columns().size(); ++i) {
    const std::string& name = t.columns()[i];
    if (name == "time_stats.all_reduce.median" || name == "time_stats.send_recv.median") {
      if (time >= 0) return t.HeaderError("the header has two time_stats.<collective>.median columns");
      time = static_cast<int>(i);
      collective = name.substr(11, name.size() - 11 - 7);
    }
  }
  if (time < 0) return t.HeaderError("the header has no time_stats.<collective>.median column");
  int rank, workers, size, collective_col, per_node, max_per_node;
  const std::pair<const char*, int*> required[] = {{"rank", &rank},
                                                   {"num_workers", &workers},
                                                   {"size", &size},
                                                   {"collective", &collective_col},
                                                   {"devices_per_node", &per_node},
                                                   {"max_devices_per_node", &max_per_node}};
  for (auto [name, index] : required) {
    if (absl::Status s = t.Require(name, index); !s.ok()) return s;
  }
  const std::string node = std::filesystem::path(path).parent_path().filename().string();
  std::vector<CollectiveSample> out;
  int64_t rows = 0;
  for (;;) {
    absl::StatusOr<bool> more = t.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++rows;
    if (t.Field(collective_col) != collective) {
      return t.RowError(absl::StrCat("collective is ", QuoteField(t.Field(collective_col)), "; expected '",
                                     collective, "' as in the header"));
    }
    int64_t r, n, d, max_d, bytes;
    if (absl::Status s = t.Int(workers, 1, kMaxInt, &n); !s.ok()) return s;
    if (absl::Status s = t.Int(rank, 0, n - 1, &r); !s.ok()) return s;
    if (absl::Status s = t.Int(max_per_node, 1, kMaxInt, &max_d); !s.ok()) return s;
    if (absl::Status s = t.Int(per_node, 1, max_d, &d); !s.ok()) return s;
    if (n % d != 0) {
      return t.RowError(
          absl::StrCat("devices_per_node ", d, " does not divide num_workers ", n, "; expected whole nodes"));
    }
    if (absl::Status s = t.Int(size, 1, std::numeric_limits<int64_t>::max(), &bytes); !s.ok()) return s;
    double ms;
    if (absl::Status s = t.PositiveNumber(time, "milliseconds", &ms); !s.ok()) return s;
    // One collective call is timed from every participating rank; rank 0's rows are one consistent
    // view of it (the published profiles hold rank 0 only, so this drops nothing there).
    if (r != 0) continue;
    CollectiveSample& c = out.emplace_back();
    c.origin = SampleOrigin{path, t.row(), ""};
    c.collective = collective;
    c.node = node;
    c.ranks = static_cast<int>(n);
    c.devices_per_node = static_cast<int>(d);
    c.bytes = static_cast<double>(bytes);
    c.time_s = ms * kMsToS;
  }
  if (rows == 0) return NoMeasurementRows(path);
  return out;
}

}  // namespace gpufleet
