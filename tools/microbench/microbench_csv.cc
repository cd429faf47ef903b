// Writing and reading the microbenchmark CSV (see microbench_csv.h and docs/microbench-csv.md).
#include "tools/microbench/microbench_csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/util/atomic_file.h"

namespace gpufleet::microbench {
namespace {

constexpr size_t kV1Columns = 24;

// The ops a kernel can implement.
bool KernelFits(Kernel kernel, Op op) {
  if (IsAttention(op)) return kernel == Kernel::kCudnnSdpa || kernel == Kernel::kReference;
  return kernel == DefaultKernel(op);
}

std::string FormatDouble(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that reads back exactly
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::string DtypeList() { return "fp16, bf16, fp8 or fp32"; }

bool NeedsDtype(Op op) { return op == Op::kGemm || IsAttention(op) || IsCollective(op); }

absl::Status Invalid(const std::string& what, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat(what, "; expected ", expected));
}

absl::Status RequirePositive(const char* column, int64_t value, Op op) {
  if (value > 0) return absl::OkStatus();
  return Invalid(absl::StrCat(column, " is ", value, " for op ", OpName(op)), "a positive integer");
}

absl::Status RequireTime(const char* column, double value) {
  if (std::isfinite(value) && value > 0) return absl::OkStatus();
  return Invalid(absl::StrCat(column, " is ", FormatDouble(value)), "a positive number of microseconds");
}

absl::Status CheckText(const char* column, const std::string& value) {
  if (value.find_first_of(",\n\r") != std::string::npos) {
    return Invalid(absl::StrCat(column, " '", value, "' contains a comma or line break"), "plain text");
  }
  return absl::OkStatus();
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// Field parsers; `column` names the field in messages.
absl::Status ParseInt(const std::string& column, const std::string& text, int64_t* out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, *out);
  if (text.empty() || ec != std::errc() || ptr != last || *out < 0) {
    return Invalid(absl::StrCat(column, " is '", text, "'"), "a non-negative integer");
  }
  return absl::OkStatus();
}

absl::Status ParseDouble(const std::string& column, const std::string& text, double* out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, *out);
  if (text.empty() || ec != std::errc() || ptr != last || !std::isfinite(*out)) {
    return Invalid(absl::StrCat(column, " is '", text, "'"), "a finite number");
  }
  return absl::OkStatus();
}

absl::Status ParseOptionalDouble(const std::string& column, const std::string& text, std::optional<double>* out) {
  if (text.empty()) {
    out->reset();
    return absl::OkStatus();
  }
  double v = 0;
  if (absl::Status s = ParseDouble(column, text, &v); !s.ok()) {
    return Invalid(absl::StrCat(column, " is '", text, "'"), "a finite number or an empty field");
  }
  *out = v;
  return absl::OkStatus();
}

// Fills `row` from the fields of one data line (already split and trimmed), checking types only.
absl::Status ParseFields(const std::vector<std::string>& f, MicrobenchRow* row) {
  const auto& cols = MicrobenchCsvColumns();
  absl::Status s;
  auto i64 = [&](int i, int64_t* out) {
    if (s.ok()) s = ParseInt(cols[i], f[i], out);
  };
  auto dbl = [&](int i, double* out) {
    if (s.ok()) s = ParseDouble(cols[i], f[i], out);
  };
  const int64_t version = f.size() == kV1Columns ? 1 : kMicrobenchSchemaVersion;
  i64(0, &row->schema_version);
  if (!s.ok()) return s;
  if (row->schema_version != version) {
    return Invalid(absl::StrCat("schema_version is ", row->schema_version),
                   absl::StrCat(version, " (the header is schema version ", version, "'s)"));
  }
  row->gpu_name = f[1];
  row->driver_version = f[2];
  row->cuda_version = f[3];
  std::optional<Op> op = ParseOp(f[4]);
  if (!op) {
    std::vector<std::string> names;
    for (Op o : AllOps()) names.push_back(OpName(o));
    return Invalid(absl::StrCat("op is '", f[4], "'"), absl::StrCat("one of ", absl::StrJoin(names, ", ")));
  }
  row->op = *op;
  std::optional<Dtype> dtype = ParseDtype(f[5]);
  if (!dtype) return Invalid(absl::StrCat("dtype is '", f[5], "'"), absl::StrCat(DtypeList(), " or empty"));
  row->dtype = *dtype;
  i64(6, &row->m);
  i64(7, &row->n);
  i64(8, &row->k);
  i64(9, &row->batch);
  i64(10, &row->q_tokens);
  i64(11, &row->kv_tokens);
  i64(12, &row->heads);
  i64(13, &row->kv_heads);
  i64(14, &row->head_dim);
  i64(15, &row->bytes);
  i64(16, &row->ranks);
  dbl(17, &row->power_limit_w);
  dbl(18, &row->time_us_median);
  dbl(19, &row->time_us_p10);
  dbl(20, &row->time_us_p90);
  i64(21, &row->samples);
  if (!s.ok()) return s;
  if (absl::Status e = ParseOptionalDouble(cols[22], f[22], &row->mean_power_w); !e.ok()) return e;
  if (absl::Status e = ParseOptionalDouble(cols[23], f[23], &row->sm_clock_mhz); !e.ok()) return e;
  if (version == 1) {
    // Upgrade: version 1 measured attention with the reference kernels and launched every call.
    row->schema_version = kMicrobenchSchemaVersion;
    row->kernel = IsAttention(row->op) ? Kernel::kReference : DefaultKernel(row->op);
    row->timing = TimingMode::kLaunch;
    return absl::OkStatus();
  }
  std::optional<Kernel> kernel = ParseKernel(f[24]);
  if (!kernel) {
    return Invalid(absl::StrCat("kernel is '", f[24], "'"),
                   "cublaslt, cudnn_sdpa, reference, stream, memcpy, empty or nccl");
  }
  row->kernel = *kernel;
  if (f[25] == "graph") {
    row->timing = TimingMode::kGraph;
  } else if (f[25] == "launch") {
    row->timing = TimingMode::kLaunch;
  } else {
    return Invalid(absl::StrCat("timing is '", f[25], "'"), "graph or launch");
  }
  i64(26, &row->cold_copies);
  i64(27, &row->working_set_bytes);
  i64(28, &row->l2_bytes);
  if (!s.ok()) return s;
  if (absl::Status e = ParseOptionalDouble(cols[29], f[29], &row->window_ms); !e.ok()) return e;
  if (absl::Status e = ParseOptionalDouble(cols[30], f[30], &row->energy_j); !e.ok()) return e;
  row->clock_events = f[31];
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& MicrobenchCsvColumns() {
  static const std::vector<std::string> cols = {
      "schema_version", "gpu_name", "driver_version", "cuda_version", "op",        "dtype",
      "m",              "n",        "k",              "batch",        "q_tokens",  "kv_tokens",
      "heads",          "kv_heads", "head_dim",       "bytes",        "ranks",     "power_limit_w",
      "time_us_median", "time_us_p10", "time_us_p90", "samples",      "mean_power_w", "sm_clock_mhz",
      "kernel",         "timing",   "cold_copies",    "working_set_bytes", "l2_bytes", "window_ms",
      "energy_j",       "clock_events"};
  return cols;
}

std::string MicrobenchCsvHeader() { return absl::StrJoin(MicrobenchCsvColumns(), ","); }

absl::Status ValidateMicrobenchRow(const MicrobenchRow& row) {
  if (row.schema_version != kMicrobenchSchemaVersion) {
    return Invalid(absl::StrCat("schema_version is ", row.schema_version), absl::StrCat(kMicrobenchSchemaVersion));
  }
  if (row.gpu_name.empty()) return Invalid("gpu_name is empty", "the GPU's name");
  for (auto [col, text] : {std::pair{"gpu_name", &row.gpu_name}, std::pair{"driver_version", &row.driver_version},
                           std::pair{"cuda_version", &row.cuda_version},
                           std::pair{"clock_events", &row.clock_events}}) {
    if (absl::Status s = CheckText(col, *text); !s.ok()) return s;
  }
  const Op op = row.op;
  if (NeedsDtype(op) && row.dtype == Dtype::kNone) {
    return Invalid(absl::StrCat("dtype is empty for op ", OpName(op)), DtypeList());
  }
  if (!NeedsDtype(op) && row.dtype != Dtype::kNone) {
    return Invalid(absl::StrCat("dtype is '", DtypeName(row.dtype), "' for op ", OpName(op)), "an empty field");
  }
  const std::pair<const char*, int64_t> shape[] = {
      {"m", row.m},         {"n", row.n},           {"k", row.k},
      {"batch", row.batch}, {"q_tokens", row.q_tokens}, {"kv_tokens", row.kv_tokens},
      {"heads", row.heads}, {"kv_heads", row.kv_heads}, {"head_dim", row.head_dim},
      {"bytes", row.bytes}, {"ranks", row.ranks},   {"samples", row.samples}};
  for (const auto& [col, v] : shape) {
    if (v < 0) return Invalid(absl::StrCat(col, " is ", v), "a non-negative integer");
  }
  if (op == Op::kGemm) {
    for (auto [col, v] : {std::pair{"m", row.m}, std::pair{"n", row.n}, std::pair{"k", row.k}}) {
      if (absl::Status s = RequirePositive(col, v, op); !s.ok()) return s;
    }
  }
  if (IsAttention(op)) {
    for (auto [col, v] : {std::pair{"batch", row.batch}, std::pair{"q_tokens", row.q_tokens},
                          std::pair{"heads", row.heads}, std::pair{"kv_heads", row.kv_heads},
                          std::pair{"head_dim", row.head_dim}}) {
      if (absl::Status s = RequirePositive(col, v, op); !s.ok()) return s;
    }
  }
  if (IsMemory(op) || IsCollective(op)) {
    if (absl::Status s = RequirePositive("bytes", row.bytes, op); !s.ok()) return s;
  }
  if (IsCollective(op) && row.ranks < 2) {
    return Invalid(absl::StrCat("ranks is ", row.ranks, " for op ", OpName(op)), "at least 2 GPUs");
  }
  if (!IsCollective(op) && row.ranks != 1) {
    return Invalid(absl::StrCat("ranks is ", row.ranks, " for op ", OpName(op)), "1 (only collectives span GPUs)");
  }
  if (!std::isfinite(row.power_limit_w) || row.power_limit_w < 0) {
    return Invalid(absl::StrCat("power_limit_w is ", FormatDouble(row.power_limit_w)),
                   "a non-negative number of watts (0 when unknown)");
  }
  for (auto [col, v] : {std::pair{"time_us_median", row.time_us_median}, std::pair{"time_us_p10", row.time_us_p10},
                        std::pair{"time_us_p90", row.time_us_p90}}) {
    if (absl::Status s = RequireTime(col, v); !s.ok()) return s;
  }
  if (!(row.time_us_p10 <= row.time_us_median && row.time_us_median <= row.time_us_p90)) {
    return Invalid(absl::StrCat("time_us_p10 ", FormatDouble(row.time_us_p10), ", time_us_median ",
                                FormatDouble(row.time_us_median), ", time_us_p90 ", FormatDouble(row.time_us_p90),
                                " are out of order"),
                   "p10 <= median <= p90");
  }
  if (row.samples < 1) return Invalid(absl::StrCat("samples is ", row.samples), "at least 1");
  if (!KernelFits(row.kernel, op)) {
    return Invalid(absl::StrCat("kernel is '", KernelName(row.kernel), "' for op ", OpName(op)),
                   IsAttention(op) ? "cudnn_sdpa or reference" : KernelName(DefaultKernel(op)));
  }
  if (row.cold_copies < 1) return Invalid(absl::StrCat("cold_copies is ", row.cold_copies), "at least 1");
  if (row.working_set_bytes < 0 || row.l2_bytes < 0) {
    return Invalid(absl::StrCat("working_set_bytes ", row.working_set_bytes, ", l2_bytes ", row.l2_bytes),
                   "non-negative integers");
  }
  for (auto [col, v] : {std::pair{"mean_power_w", row.mean_power_w}, std::pair{"sm_clock_mhz", row.sm_clock_mhz},
                        std::pair{"window_ms", row.window_ms}, std::pair{"energy_j", row.energy_j}}) {
    if (v && (!std::isfinite(*v) || *v < 0)) {
      return Invalid(absl::StrCat(col, " is ", FormatDouble(*v)), "a non-negative number or an empty field");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FormatMicrobenchCsv(const std::vector<MicrobenchRow>& rows,
                                                const std::vector<std::string>& comments) {
  std::string out;
  for (const std::string& c : comments) {
    for (absl::string_view line : absl::StrSplit(c, '\n')) absl::StrAppend(&out, "# ", line, "\n");
  }
  absl::StrAppend(&out, MicrobenchCsvHeader(), "\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const MicrobenchRow& r = rows[i];
    if (absl::Status s = ValidateMicrobenchRow(r); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("row ", i + 1, " (", OpName(r.op), "): ", s.message()));
    }
    if (r.gpu_name != rows[0].gpu_name) {
      return absl::InvalidArgumentError(absl::StrCat("row ", i + 1, ": gpu_name is '", r.gpu_name, "' but row 1 has '",
                                                     rows[0].gpu_name, "'; expected one GPU per file"));
    }
    auto opt = [](const std::optional<double>& v) { return v ? FormatDouble(*v) : std::string(); };
    absl::StrAppend(&out, r.schema_version, ",", r.gpu_name, ",", r.driver_version, ",", r.cuda_version, ",",
                    OpName(r.op), ",", DtypeName(r.dtype), ",", r.m, ",", r.n, ",", r.k, ",", r.batch, ",");
    absl::StrAppend(&out, r.q_tokens, ",", r.kv_tokens, ",", r.heads, ",", r.kv_heads, ",", r.head_dim, ",", r.bytes,
                    ",", r.ranks, ",", FormatDouble(r.power_limit_w), ",", FormatDouble(r.time_us_median), ",");
    absl::StrAppend(&out, FormatDouble(r.time_us_p10), ",", FormatDouble(r.time_us_p90), ",", r.samples, ",",
                    opt(r.mean_power_w), ",", opt(r.sm_clock_mhz), ",");
    absl::StrAppend(&out, KernelName(r.kernel), ",", TimingModeName(r.timing), ",", r.cold_copies, ",",
                    r.working_set_bytes, ",", r.l2_bytes, ",", opt(r.window_ms), ",", opt(r.energy_j), ",",
                    r.clock_events, "\n");
  }
  return out;
}

absl::Status WriteMicrobenchCsv(const std::string& path, const std::vector<MicrobenchRow>& rows,
                                const std::vector<std::string>& comments) {
  absl::StatusOr<std::string> text = FormatMicrobenchCsv(rows, comments);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", text.status().message()));
  return WriteFileAtomically(path, *text);
}

absl::StatusOr<std::vector<MicrobenchRow>> ParseMicrobenchCsv(const std::string& text, const std::string& path,
                                                              std::vector<int64_t>* lines) {
  std::vector<MicrobenchRow> rows;
  if (lines != nullptr) lines->clear();
  bool have_header = false;
  size_t columns = 0;
  int64_t first_gpu_line = 0;
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  auto error = [&](const absl::Status& s) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": ", s.message()));
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    std::vector<std::string> fields;
    for (absl::string_view f : absl::StrSplit(line, ',')) fields.push_back(Trim(std::string(f)));
    if (!have_header) {
      const auto& cols = MicrobenchCsvColumns();
      // A version 1 header is the first 24 columns alone.
      const size_t expected = fields.size() == kV1Columns ? kV1Columns : cols.size();
      for (size_t i = 0; i < expected; ++i) {
        if (i >= fields.size() || fields[i] != cols[i]) {
          return error(Invalid(absl::StrCat("header column ", i + 1, " is '", i < fields.size() ? fields[i] : "",
                                            "'"),
                               absl::StrCat("'", cols[i], "' (schema version ", kMicrobenchSchemaVersion,
                                            " header: ", MicrobenchCsvHeader(), ")")));
        }
      }
      if (fields.size() != expected) {
        return error(Invalid(absl::StrCat("header has ", fields.size(), " columns"),
                             absl::StrCat(cols.size(), " (", MicrobenchCsvHeader(), ")")));
      }
      columns = expected;
      have_header = true;
      continue;
    }
    if (fields.size() != columns) {
      return error(Invalid(absl::StrCat("row has ", fields.size(), " fields"),
                           absl::StrCat(columns, " (one per header column)")));
    }
    MicrobenchRow row;
    if (absl::Status s = ParseFields(fields, &row); !s.ok()) return error(s);
    if (absl::Status s = ValidateMicrobenchRow(row); !s.ok()) return error(s);
    if (rows.empty()) {
      first_gpu_line = line_no;
    } else if (row.gpu_name != rows.front().gpu_name) {
      return error(Invalid(absl::StrCat("gpu_name is '", row.gpu_name, "' but line ", first_gpu_line, " has '",
                                        rows.front().gpu_name, "'"),
                           "one GPU per file"));
    }
    rows.push_back(std::move(row));
    if (lines != nullptr) lines->push_back(line_no);
  }
  if (!have_header) {
    line_no = std::max<int64_t>(line_no, 1);
    return error(Invalid("no header line", absl::StrCat("'", MicrobenchCsvHeader(), "'")));
  }
  return rows;
}

absl::StatusOr<std::vector<MicrobenchRow>> ReadMicrobenchCsv(const std::string& path, std::vector<int64_t>* lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseMicrobenchCsv(buf.str(), path, lines);
}

}  // namespace gpufleet::microbench
