// Readers for the published end-to-end serving sets (see end_to_end_runs.h).
#include "models/calibration/end_to_end_runs.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/calibration/csv_table.h"
#include "models/calibration/model_names.h"
#include "sim/util/status_macros.h"
#include "traces/csv_fields.h"
#include "traces/csv_line_reader.h"

namespace gpufleet {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

// ---------------------------------------------------------------------------------------------------------
// ML.ENERGY Benchmark V3.

// The set's serving stack, stated by its publication (../shared/data/README.md), not in the files.
constexpr char kMlEnergyFramework[] = "vLLM 0.11.1";

using Json = nlohmann::json;

std::string Shown(const Json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

// Field checks of one JSON object; errors read "PREFIX KEY is ...; expected ...". `row` 0 = file level.
class JsonFields {
 public:
  JsonFields(const std::string& path, int64_t row, std::string prefix, const Json& obj)
      : path_(path), row_(row), prefix_(std::move(prefix)), obj_(obj) {}

  absl::Status Error(absl::string_view key, absl::string_view what, absl::string_view expected) const {
    const std::string msg = absl::StrCat(prefix_, key, " ", what, "; expected ", expected);
    return row_ > 0 ? TraceRowError(path_, row_, msg) : absl::InvalidArgumentError(absl::StrCat(path_, ": ", msg));
  }
  const Json* Find(absl::string_view key) const {
    auto it = obj_.find(std::string(key));
    return it == obj_.end() ? nullptr : &*it;
  }
  absl::Status String(absl::string_view key, std::string* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Error(key, "is missing", "a string");
    if (!v->is_string() || v->get<std::string>().empty())
      return Error(key, absl::StrCat("is ", Shown(*v)), "a non-empty string");
    *out = v->get<std::string>();
    return absl::OkStatus();
  }
  absl::Status Int(absl::string_view key, int64_t min, int64_t* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Error(key, "is missing", absl::StrCat("an integer >= ", min));
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > kMaxInt) {
      return Error(key, absl::StrCat("is ", Shown(*v)), absl::StrCat("an integer from ", min, " to ", kMaxInt));
    }
    *out = v->get<int64_t>();
    return absl::OkStatus();
  }
  absl::Status Positive(absl::string_view key, absl::string_view unit, double* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Error(key, "is missing", absl::StrCat("a positive number of ", unit));
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() <= 0) {
      return Error(key, absl::StrCat("is ", Shown(*v)), absl::StrCat("a positive number of ", unit));
    }
    *out = v->get<double>();
    return absl::OkStatus();
  }
  // An output-length histogram {bins: edges, counts}: edges increasing, one more than counts, counts >= 0.
  absl::Status Histogram(absl::string_view key, std::vector<double>* bins, std::vector<double>* counts) const {
    const Json* v = Find(key);
    const char* expected = "{bins: increasing edges, counts: one count >= 0 per bin}";
    if (v == nullptr) return Error(key, "is missing", expected);
    if (!v->is_object() || !v->contains("bins") || !v->contains("counts") || !(*v)["bins"].is_array() ||
        !(*v)["counts"].is_array()) {
      return Error(key, absl::StrCat("is ", Shown(*v)), expected);
    }
    bins->clear();
    counts->clear();
    for (const Json& b : (*v)["bins"]) {
      if (!b.is_number() || !std::isfinite(b.get<double>()) || (!bins->empty() && b.get<double>() <= bins->back())) {
        return Error(absl::StrCat(key, ".bins"), absl::StrCat("has ", Shown(b), " at position ", bins->size() + 1),
                     "increasing finite edges");
      }
      bins->push_back(b.get<double>());
    }
    for (const Json& c : (*v)["counts"]) {
      if (!c.is_number() || !std::isfinite(c.get<double>()) || c.get<double>() < 0) {
        return Error(absl::StrCat(key, ".counts"), absl::StrCat("has ", Shown(c), " at position ", counts->size() + 1),
                     "counts >= 0");
      }
      counts->push_back(c.get<double>());
    }
    if (counts->empty() || bins->size() != counts->size() + 1) {
      return Error(key, absl::StrCat("has ", bins->size(), " edges and ", counts->size(), " counts"),
                   "one edge more than counts, at least one count");
    }
    return absl::OkStatus();
  }

 private:
  const std::string& path_;
  int64_t row_;
  std::string prefix_;
  const Json& obj_;
};

std::string Precision(const std::string& published) {
  if (published == "bfloat16") return "bf16";
  if (published == "float16") return "fp16";
  return published;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return text.str();
}

absl::Status ReadMlEnergyFile(const std::string& path, const Catalog& catalog, std::vector<EndToEndRun>* out) {
  GF_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid JSON (byte ", e.byte, "); expected an ML.ENERGY V3 ", "leaderboard file"));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the file is ", Shown(root), "; expected an object (an ML.ENERGY V3 leaderboard file)"));
  }
  const JsonFields file(path, 0, "", root);
  std::string model_id, task, precision;
  GF_RETURN_IF_ERROR(file.String("model_id", &model_id));
  GF_RETURN_IF_ERROR(file.String("task", &task));
  if (file.Find("weight_precision") != nullptr) GF_RETURN_IF_ERROR(file.String("weight_precision", &precision));
  GF_ASSIGN_OR_RETURN(const LlmSpec* llm, MapModelName(model_id, catalog, absl::StrCat(path, ": model_id")));
  std::vector<double> file_bins, file_counts;
  const bool file_histogram = file.Find("output_length_distribution") != nullptr;
  if (file_histogram) GF_RETURN_IF_ERROR(file.Histogram("output_length_distribution", &file_bins, &file_counts));
  const Json* configs = file.Find("configurations");
  if (configs == nullptr || !configs->is_array() || configs->empty()) {
    return file.Error("configurations", configs == nullptr ? "is missing" : absl::StrCat("is ", Shown(*configs)),
                      "a non-empty list of measured configurations");
  }
  for (size_t i = 0; i < configs->size(); ++i) {
    const Json& c = (*configs)[i];
    const int64_t row = static_cast<int64_t>(i) + 1;
    const std::string prefix = absl::StrCat("configurations[", i, "].");
    if (!c.is_object())
      return TraceRowError(path, row, absl::StrCat("configurations[", i, "] is ", Shown(c), "; expected an object"));
    const JsonFields f(path, row, prefix, c);
    EndToEndRun r;
    r.source = "mlenergy";
    r.origin = SampleOrigin{path, row, model_id};
    r.model = llm->name;
    r.framework = kMlEnergyFramework;
    r.precision = Precision(precision);
    r.task = task;
    r.kind = EndToEndRun::Kind::kClosedLoop;
    std::string gpu_model;
    GF_RETURN_IF_ERROR(f.String("gpu_model", &gpu_model));
    GF_ASSIGN_OR_RETURN(const GpuSpec* gpu,
                        MapGpuName(gpu_model, catalog, absl::StrCat(path, ":", row, ": gpu_model")));
    r.gpu = gpu->name;
    int64_t num_gpus, max_num_seqs, tp;
    GF_RETURN_IF_ERROR(f.Int("num_gpus", 1, &num_gpus));
    GF_RETURN_IF_ERROR(f.Int("max_num_seqs", 1, &max_num_seqs));
    const Json* par = f.Find("parallelization");
    if (par == nullptr || !par->is_object()) {
      return f.Error("parallelization", par == nullptr ? "is missing" : absl::StrCat("is ", Shown(*par)),
                     "an object with tensor_parallel");
    }
    const JsonFields p(path, row, prefix + "parallelization.", *par);
    GF_RETURN_IF_ERROR(p.Int("tensor_parallel", 1, &tp));
    if (tp != num_gpus) {
      return f.Error("num_gpus", absl::StrCat("is ", num_gpus, " but parallelization.tensor_parallel is ", tp),
                     "one tensor-parallel replica per run (num_gpus = tensor_parallel)");
    }
    r.tensor_parallel = static_cast<int>(tp);
    r.batch = static_cast<int>(max_num_seqs);
    double avg_output_len, itl_ms[4];
    GF_RETURN_IF_ERROR(f.Positive("avg_batch_size", "running requests", &r.avg_batch));
    GF_RETURN_IF_ERROR(f.Positive("avg_output_len", "tokens", &avg_output_len));
    GF_RETURN_IF_ERROR(f.Positive("output_throughput_tokens_per_sec", "tokens/s", &r.output_tok_s));
    GF_RETURN_IF_ERROR(f.Positive("avg_power_watts", "W", &r.power_w));
    GF_RETURN_IF_ERROR(f.Positive("energy_per_token_joules", "J", &r.energy_per_token_j));
    const char* itl_keys[4] = {"median_itl_ms", "p90_itl_ms", "p95_itl_ms", "p99_itl_ms"};
    for (int k = 0; k < 4; ++k) GF_RETURN_IF_ERROR(f.Positive(itl_keys[k], "milliseconds", &itl_ms[k]));
    r.output_tokens = static_cast<int>(std::lround(avg_output_len));
    r.itl_p50_s = itl_ms[0] * 1e-3;
    r.itl_p90_s = itl_ms[1] * 1e-3;
    r.itl_p95_s = itl_ms[2] * 1e-3;
    r.itl_p99_s = itl_ms[3] * 1e-3;
    if (f.Find("output_length_distribution") != nullptr) {
      GF_RETURN_IF_ERROR(f.Histogram("output_length_distribution", &r.output_bins, &r.output_counts));
    } else if (file_histogram) {
      r.output_bins = file_bins;
      r.output_counts = file_counts;
    } else {
      return f.Error("output_length_distribution", "is missing (and the file has none)",
                     "the task's output-length histogram {bins, counts}");
    }
    out->push_back(std::move(r));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------------------
// LLM-Inference-Bench.

constexpr char kAllResults[] = "All_results.csv";
constexpr char kPowerResults[] = "power_results.csv";
constexpr char kTtftResults[] = "all_results_TTFT_ITL.csv";
constexpr char kBenchColumns[] =
    "Hardware, Num of Hardware, Framework, Model, Input Output Length, Batch Size, Latency, Throughput "
    "(LLM-Inference-Bench All_results.csv)";
constexpr char kPowerColumns[] =
    "Hardware, Num of Hardware, Framework, Model, Input Output Length, Batch Size, Latency, Throughput, avg_power "
    "(LLM-Inference-Bench power_results.csv, avg_power in mW)";
constexpr char kTtftColumns[] =
    "Hardware, Num of Hardware, Framework, Model, Input Length, Output Length, Batch Size, TTFT Latency, "
    "end_latency (LLM-Inference-Bench all_results_TTFT_ITL.csv)";
constexpr char kLlamaCpp[] = "llama.cpp: quantised GGUF weights of unpublished precision";
constexpr char kUnmatched[] = "no All_results.csv row of the same configuration";
// The relative difference below which two published latencies are the same measurement.
constexpr double kSameLatency = 1e-3;

// A run's configuration, as the three files spell it (framework compared case-insensitively: the files
// write "Deepspeed-MII" and "DeepSpeed-MII" alike).
using BenchKey = std::tuple<std::string, int64_t, std::string, std::string, int64_t, int64_t>;
BenchKey MakeKey(absl::string_view hw, int64_t gpus, absl::string_view framework, absl::string_view model,
                 int64_t length, int64_t batch) {
  return {std::string(hw), gpus, absl::AsciiStrToLower(framework), std::string(model), length, batch};
}

// The configuration columns shared by the three files.
struct BenchRow {
  std::string hardware, framework, model;
  int64_t gpus = 0, length = 0, batch = 0;
  BenchKey key() const { return MakeKey(hardware, gpus, framework, model, length, batch); }
};

// Where a row of All_results.csv went: a run (index) or skipped.
struct Joined {
  std::map<BenchKey, std::vector<size_t>> runs;
  std::set<BenchKey> skipped;
};

// The runs of `key` a power or TTFT row with latency `latency_s` (NaN: not given) belongs to: those whose
// latency is the same measurement when there are such, else all of the configuration's.
std::vector<size_t> RunsOf(const Joined& joined, const BenchKey& key, double latency_s,
                           const std::vector<EndToEndRun>& runs) {
  auto it = joined.runs.find(key);
  if (it == joined.runs.end()) return {};
  std::vector<size_t> same;
  for (size_t i : it->second) {
    if (std::isfinite(latency_s) && std::fabs(runs[i].latency_s / latency_s - 1) < kSameLatency) same.push_back(i);
  }
  return same.empty() ? it->second : same;
}

// Reads the configuration columns of the current row (`cols`: hardware, gpus, framework, model, length, batch).
absl::Status ReadBenchRow(const CsvTable& t, const int cols[6], BenchRow* r) {
  r->hardware = std::string(t.Field(cols[0]));
  r->framework = std::string(t.Field(cols[2]));
  r->model = std::string(t.Field(cols[3]));
  if (r->hardware.empty()) return t.RowError("Hardware is empty; expected a GPU name such as 'Nvidia H100 GPU'");
  if (r->framework.empty()) return t.RowError("Framework is empty; expected a serving framework such as 'vLLM'");
  if (r->model.empty()) return t.RowError("Model is empty; expected a model name such as 'meta-llama/Llama-2-7b-hf'");
  GF_RETURN_IF_ERROR(t.Int(cols[1], 1, kMaxInt, &r->gpus));
  GF_RETURN_IF_ERROR(t.Int(cols[4], 1, kMaxInt, &r->length));
  GF_RETURN_IF_ERROR(t.Int(cols[5], 1, kMaxInt, &r->batch));
  return absl::OkStatus();
}

absl::Status RequireColumns(const CsvTable& t, const std::vector<const char*>& names, int* cols) {
  for (size_t i = 0; i < names.size(); ++i) GF_RETURN_IF_ERROR(t.Require(names[i], &cols[i]));
  return absl::OkStatus();
}

absl::Status ReadAllResults(const std::string& path, const Catalog& catalog, std::vector<EndToEndRun>* runs,
                            Joined* joined, std::vector<SkippedRow>* skipped) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<CsvTable> table, CsvTable::Open(path, kBenchColumns));
  CsvTable& t = *table;
  int cols[8];
  GF_RETURN_IF_ERROR(RequireColumns(t,
                                    {"Hardware", "Num of Hardware", "Framework", "Model", "Input Output Length",
                                     "Batch Size", "Latency", "Throughput"},
                                    cols));
  int64_t rows = 0;
  for (;;) {
    GF_ASSIGN_OR_RETURN(bool more, t.Next());
    if (!more) break;
    ++rows;
    BenchRow b;
    GF_RETURN_IF_ERROR(ReadBenchRow(t, cols, &b));
    double latency, throughput;
    GF_RETURN_IF_ERROR(t.PositiveNumber(cols[6], "seconds", &latency));
    GF_RETURN_IF_ERROR(t.PositiveNumber(cols[7], "tokens/s", &throughput));
    const SampleOrigin origin{path, t.row(), b.model};
    const std::string where = absl::StrCat(path, ":", t.row());
    auto skip = [&](std::string reason) {
      if (skipped != nullptr) skipped->push_back({origin, std::move(reason)});
      joined->skipped.insert(b.key());
    };
    if (absl::AsciiStrToLower(b.framework) == "llama.cpp") {
      skip(kLlamaCpp);
      continue;
    }
    absl::StatusOr<const GpuSpec*> gpu = MapGpuName(b.hardware, catalog, where);
    if (absl::IsNotFound(gpu.status())) {
      skip(absl::StrCat("GPU not in the catalog: '", b.hardware, "'"));
      continue;
    }
    if (!gpu.ok()) return gpu.status();
    absl::StatusOr<const LlmSpec*> llm = MapModelName(b.model, catalog, where);
    if (absl::IsNotFound(llm.status())) {
      skip(absl::StrCat("model not in the catalog: '", b.model, "'"));
      continue;
    }
    if (!llm.ok()) return llm.status();
    // Throughput counts input and output tokens: batch x 2 x length / latency.
    const double expected = 2.0 * static_cast<double>(b.batch * b.length) / latency;
    if (std::fabs(throughput / expected - 1) > 0.01) {
      return t.RowError(
          absl::StrFormat("Throughput is %s; expected Batch Size x 2 x Input Output Length / Latency = "
                          "%.6g tokens/s (input and output tokens) within 1%%",
                          QuoteField(t.Field(cols[7])), expected));
    }
    EndToEndRun r;
    r.source = "inference-bench";
    r.origin = origin;
    r.gpu = (*gpu)->name;
    r.model = (*llm)->name;
    r.framework = b.framework;
    r.tensor_parallel = static_cast<int>(b.gpus);
    r.kind = EndToEndRun::Kind::kFixedBatch;
    r.batch = static_cast<int>(b.batch);
    r.prompt_tokens = static_cast<int>(b.length);
    r.output_tokens = static_cast<int>(b.length);
    r.latency_s = latency;
    r.output_tok_s = throughput / 2;
    joined->runs[b.key()].push_back(runs->size());
    runs->push_back(std::move(r));
  }
  if (rows == 0) return NoMeasurementRows(path);
  return absl::OkStatus();
}

absl::Status JoinPower(const std::string& path, const Joined& joined, std::vector<EndToEndRun>* runs,
                       std::vector<SkippedRow>* skipped) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<CsvTable> table, CsvTable::Open(path, kPowerColumns));
  CsvTable& t = *table;
  int cols[8];
  GF_RETURN_IF_ERROR(RequireColumns(t,
                                    {"Hardware", "Num of Hardware", "Framework", "Model", "Input Output Length",
                                     "Batch Size", "Latency", "avg_power"},
                                    cols));
  for (;;) {
    GF_ASSIGN_OR_RETURN(bool more, t.Next());
    if (!more) break;
    BenchRow b;
    GF_RETURN_IF_ERROR(ReadBenchRow(t, cols, &b));
    double latency, milliwatts;
    GF_RETURN_IF_ERROR(t.PositiveNumber(cols[6], "seconds", &latency));
    GF_RETURN_IF_ERROR(t.PositiveNumber(cols[7], "milliwatts", &milliwatts));
    const std::vector<size_t> mine = RunsOf(joined, b.key(), latency, *runs);
    for (size_t i : mine) (*runs)[i].power_w = milliwatts * 1e-3;
    if (mine.empty() && !joined.skipped.contains(b.key()) && skipped != nullptr) {
      skipped->push_back({SampleOrigin{path, t.row(), b.model}, absl::StrCat("power row: ", kUnmatched)});
    }
  }
  return absl::OkStatus();
}

// all_results_TTFT_ITL.csv, read line by line: the published file's GH200 TensorRT-LLM rows end after the
// TTFT (no end_latency), which CsvTable would refuse; one field short is accepted, nothing else.
absl::Status JoinTtft(const std::string& path, const Joined& joined, std::vector<EndToEndRun>* runs,
                      std::vector<SkippedRow>* skipped) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<CsvLineReader> reader, CsvLineReader::Open(path));
  auto error = [&](absl::string_view message) { return TraceRowError(path, reader->line_number(), message); };
  absl::string_view line;
  if (!reader->NextLine(&line)) {
    GF_RETURN_IF_ERROR(reader->status());
    return TraceRowError(path, 1, absl::StrCat("the file is empty; expected columns ", kTtftColumns));
  }
  const std::vector<std::string> names = {"Hardware",   "Num of Hardware", "Framework",
                                          "Model",      "Input Length",    "Output Length",
                                          "Batch Size", "TTFT Latency",    "end_latency"};
  std::vector<absl::string_view> f(names.size() + 1);
  if (SplitCsvFields(line, f.data(), static_cast<int>(f.size())) != static_cast<int>(names.size())) {
    return error(absl::StrCat("the header is not the expected one; expected columns ", kTtftColumns));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (f[i] != names[i]) {
      return error(absl::StrCat("column ", i + 1, " is ", QuoteField(f[i]), "; expected columns ", kTtftColumns));
    }
  }
  while (reader->NextLine(&line)) {
    if (IsBlankLine(line)) continue;
    const int n = SplitCsvFields(line, f.data(), static_cast<int>(f.size()));
    if (n != static_cast<int>(names.size()) && n != static_cast<int>(names.size()) - 1) {
      return error(absl::StrCat("the row has ", n, " fields; expected ", names.size(), " as in the header (",
                                names.size() - 1, " when end_latency is not given)"));
    }
    BenchRow b;
    b.hardware = std::string(f[0]);
    b.framework = std::string(f[2]);
    b.model = std::string(f[3]);
    int64_t output = 0;
    double ttft = 0, end = std::numeric_limits<double>::quiet_NaN();
    if (!ParseInt64(f[1], &b.gpus) || b.gpus < 1)
      return error(absl::StrCat("Num of Hardware is ", QuoteField(f[1]), "; expected an integer >= 1"));
    if (!ParseInt64(f[4], &b.length) || b.length < 1)
      return error(absl::StrCat("Input Length is ", QuoteField(f[4]), "; expected an integer >= 1"));
    if (!ParseInt64(f[5], &output) || output < 1)
      return error(absl::StrCat("Output Length is ", QuoteField(f[5]), "; expected an integer >= 1"));
    if (!ParseInt64(f[6], &b.batch) || b.batch < 1)
      return error(absl::StrCat("Batch Size is ", QuoteField(f[6]), "; expected an integer >= 1"));
    if (!ParseFiniteDouble(f[7], &ttft) || ttft <= 0) {
      return error(absl::StrCat("TTFT Latency is ", QuoteField(f[7]), "; expected a positive number of seconds"));
    }
    if (n == static_cast<int>(names.size()) && (!ParseFiniteDouble(f[8], &end) || end <= 0)) {
      return error(absl::StrCat("end_latency is ", QuoteField(f[8]), "; expected a positive number of seconds"));
    }
    const std::vector<size_t> mine = RunsOf(joined, b.key(), end, *runs);
    for (size_t i : mine) (*runs)[i].ttft_s = ttft;
    if (mine.empty() && !joined.skipped.contains(b.key()) && skipped != nullptr) {
      skipped->push_back({SampleOrigin{path, reader->line_number(), b.model}, absl::StrCat("TTFT row: ", kUnmatched)});
    }
  }
  return reader->status();
}

}  // namespace

absl::StatusOr<std::vector<EndToEndRun>> ReadMlEnergy(const std::string& dir, const Catalog& catalog) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": not a folder; expected the folder of ML.ENERGY V3 *.json files"));
  }
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path().string());
  }
  if (ec) return absl::DataLossError(absl::StrCat(dir, ": cannot list the folder: ", ec.message()));
  if (files.empty())
    return absl::InvalidArgumentError(absl::StrCat(dir, ": no *.json files; expected ML.ENERGY V3 leaderboard files"));
  std::sort(files.begin(), files.end());
  std::vector<EndToEndRun> runs;
  for (const std::string& f : files) GF_RETURN_IF_ERROR(ReadMlEnergyFile(f, catalog, &runs));
  return runs;
}

absl::StatusOr<std::vector<EndToEndRun>> ReadInferenceBench(const std::string& dir, const Catalog& catalog,
                                                            std::vector<SkippedRow>* skipped) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  std::vector<EndToEndRun> runs;
  Joined joined;
  GF_RETURN_IF_ERROR(ReadAllResults((root / kAllResults).string(), catalog, &runs, &joined, skipped));
  // The power and TTFT files are optional: a run without them keeps NaN.
  std::error_code ec;
  if (fs::exists(root / kPowerResults, ec))
    GF_RETURN_IF_ERROR(JoinPower((root / kPowerResults).string(), joined, &runs, skipped));
  if (fs::exists(root / kTtftResults, ec))
    GF_RETURN_IF_ERROR(JoinTtft((root / kTtftResults).string(), joined, &runs, skipped));
  return runs;
}

absl::StatusOr<std::vector<EndToEndRun>> ReadSplitwisePower(const std::string& path, const Catalog& catalog,
                                                            std::vector<SkippedRow>* skipped) {
  GF_ASSIGN_OR_RETURN(std::unique_ptr<CsvTable> table,
                      CsvTable::Open(path, "model, hardware, prompt_size, batch_size, token_size, average_power "
                                           "(share of TDP), e2e_time (ms), tensor_parallel"));
  CsvTable& t = *table;
  int cols[8];
  GF_RETURN_IF_ERROR(RequireColumns(t,
                                    {"model", "hardware", "prompt_size", "batch_size", "token_size", "average_power",
                                     "e2e_time", "tensor_parallel"},
                                    cols));
  std::vector<EndToEndRun> runs;
  int64_t rows = 0;
  for (;;) {
    GF_ASSIGN_OR_RETURN(bool more, t.Next());
    if (!more) break;
    ++rows;
    const std::string model(t.Field(cols[0])), hardware(t.Field(cols[1]));
    const SampleOrigin origin{path, t.row(), model};
    double share = 0;
    GF_RETURN_IF_ERROR(t.NonNegativeNumber(cols[5], &share));
    if (share == 0) {
      if (skipped != nullptr) skipped->push_back({origin, "no measured power"});
      continue;
    }
    if (absl::EndsWith(hardware, "-pcap")) {
      if (skipped != nullptr) skipped->push_back({origin, "a modelled power cap, not a measurement"});
      continue;
    }
    const std::string where = absl::StrCat(path, ":", t.row());
    GF_ASSIGN_OR_RETURN(const GpuSpec* gpu, MapGpuName(hardware, catalog, where));
    GF_ASSIGN_OR_RETURN(const LlmSpec* llm, MapModelName(model, catalog, where));
    int64_t prompt, batch, tokens, tp;
    double e2e_ms;
    GF_RETURN_IF_ERROR(t.Int(cols[2], 1, kMaxInt, &prompt));
    GF_RETURN_IF_ERROR(t.Int(cols[3], 1, kMaxInt, &batch));
    GF_RETURN_IF_ERROR(t.Int(cols[4], 1, kMaxInt, &tokens));
    GF_RETURN_IF_ERROR(t.Int(cols[7], 1, 64, &tp));
    GF_RETURN_IF_ERROR(t.PositiveNumber(cols[6], "milliseconds", &e2e_ms));
    if (share > 2) return t.RowError(absl::StrCat("average_power is ", share, "; expected a share of TDP (0 to 2)"));
    if (llm->max_context > 0 && prompt + tokens > llm->max_context) {
      // Llama-2-70B's rows of 4,096 and 8,192-token prompts: beyond the model's context, so not a run of the
      // model as published (the 8,192-token rows read near-idle power: the requests did not run).
      if (skipped != nullptr) skipped->push_back({origin, "prompt + output beyond the model's context"});
      continue;
    }
    EndToEndRun r;
    r.source = "splitwise";
    r.origin = origin;
    r.gpu = gpu->name;
    r.model = llm->name;
    r.framework = "Splitwise";
    r.tensor_parallel = static_cast<int>(tp);
    r.kind = EndToEndRun::Kind::kFixedBatch;
    r.batch = static_cast<int>(batch);
    r.prompt_tokens = static_cast<int>(prompt);
    r.output_tokens = static_cast<int>(tokens);
    r.latency_s = e2e_ms / 1000;
    r.power_w = share * gpu->tdp_w * static_cast<double>(tp);  // every GPU of the run together
    runs.push_back(std::move(r));
  }
  if (rows == 0) return NoMeasurementRows(path);
  return runs;
}

std::string SummarizeSkipped(const std::vector<SkippedRow>& skipped) {
  if (skipped.empty()) return "";
  std::map<std::string, int64_t> by_reason;
  for (const SkippedRow& s : skipped) ++by_reason[s.reason];
  std::vector<std::pair<int64_t, std::string>> sorted;
  for (const auto& [reason, n] : by_reason) sorted.emplace_back(-n, reason);
  std::sort(sorted.begin(), sorted.end());
  std::string out = absl::StrCat("skipped ", skipped.size(), skipped.size() == 1 ? " row: " : " rows: ");
  for (size_t i = 0; i < sorted.size(); ++i)
    absl::StrAppend(&out, i ? "; " : "", -sorted[i].first, " ", sorted[i].second);
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EndToEndSets(const std::string& source,
                                                                              const std::string& path,
                                                                              const std::vector<std::string>& also) {
  std::vector<std::pair<std::string, std::string>> sets = {{source, path}};
  for (const std::string& a : also) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos) return absl::InvalidArgumentError("--also '" + a + "': expected SOURCE=PATH");
    sets.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return sets;
}

absl::StatusOr<std::vector<EndToEndRun>> ReadEndToEndSet(const std::string& source, const std::string& path,
                                                         const Catalog& catalog) {
  if (source == "mlenergy") return ReadMlEnergy(path, catalog);
  if (source == "inference-bench") return ReadInferenceBench(path, catalog);
  if (source == "splitwise") return ReadSplitwisePower(path, catalog);
  return absl::InvalidArgumentError("--also '" + source + "=" + path +
                                    "': expected mlenergy=PATH, inference-bench=PATH or splitwise=PATH");
}

}  // namespace gpufleet
