// Loading and checking the GPU, node, LLM and fabric catalogs (see catalog.h and models/catalog/README.md).
#include "models/catalog.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

#ifndef GPUFLEET_SOURCE_DIR
#define GPUFLEET_SOURCE_DIR "."
#endif

namespace gpufleet {
namespace {

constexpr char kGpusFile[] = "gpus.yaml";
constexpr char kNodesFile[] = "nodes.yaml";
constexpr char kLlmsFile[] = "llms.yaml";
constexpr char kFabricsFile[] = "fabrics.yaml";

const std::vector<std::string>& Vendors() {
  static const std::vector<std::string> v = {"nvidia", "amd"};
  return v;
}
const std::vector<std::string>& Architectures() {
  static const std::vector<std::string> v = {"ampere", "ada", "hopper", "blackwell", "cdna3"};
  return v;
}
const std::vector<std::string>& Fabrics() {
  static const std::vector<std::string> v = {"nvswitch", "nvlink-pairs", "pcie", "infinity-fabric"};
  return v;
}
const std::vector<std::string>& Dtypes() {
  static const std::vector<std::string> v = {"float16", "bfloat16"};
  return v;
}

const std::vector<std::string> kGpuKeys = {
    "name",        "vendor",      "architecture", "fp16_tflops", "fp8_tflops",         "hbm_gb",
    "hbm_gbps",    "cache_mb",    "sm_count",    "boost_clock_mhz", "tdp_w",       "idle_w",       "min_power_w", "max_power_w",        "nvlink_gbps",
    "pcie_gbps",   "price_usd_per_hour",          "sources",     "notes"};
const std::vector<std::string> kNodeKeys = {
    "name",       "gpu",          "gpus_per_node",      "intra_fabric", "intra_gbps",
    "network_gbps", "price_usd_per_hour", "non_gpu_idle_w", "non_gpu_max_w", "sources", "notes"};
const std::vector<std::string> kLlmKeys = {
    "name",  "hf_id",     "layers",            "hidden",          "heads", "kv_heads",
    "head_dim", "ffn",    "vocab",             "gated_mlp",       "num_experts",
    "experts_per_token",  "tied_embeddings",   "dtype",           "max_context", "sources", "notes"};

const std::vector<std::string> kFabricKeys = {"name", "nic_latency_us", "switch_latency_us", "intra_latency_us",
                                              "sources", "notes"};

std::string Join(const std::string& dir, const char* file) {
  return (std::filesystem::path(dir) / file).string();
}

// (Debian's abseil is built with its own string_view, so std::string_view goes through std::string.)
std::string Field(const MapReader& r, std::string_view key) { return absl::StrCat(r.what(), ".", std::string(key)); }

// Registers every known key as read, then rejects the others. Done before any value is read so that a
// misspelt key is reported as such (with a did-you-mean) rather than as the required key it replaces.
absl::Status CheckKeys(MapReader& r, const std::vector<std::string>& keys) {
  for (const auto& k : keys) r.Raw(k);
  return r.Finish();
}

// A required finite number; `strict` demands > lo, otherwise >= lo.
absl::Status GetNumber(MapReader& r, std::string_view key, double* out, double lo, bool strict) {
  GF_RETURN_IF_ERROR(r.Get(key, out));
  const bool ok = std::isfinite(*out) && (strict ? *out > lo : *out >= lo);
  if (!ok) {
    return r.ErrorAt(key, absl::StrCat(Field(r, key), " is ", r.Raw(key).Scalar(), ", out of range"),
                     absl::StrCat("a finite number ", strict ? "> " : ">= ", lo));
  }
  return absl::OkStatus();
}

absl::Status GetInt(MapReader& r, std::string_view key, int* out, int64_t lo, int64_t hi) {
  int64_t v = 0;
  GF_RETURN_IF_ERROR(r.Get(key, &v, lo, hi));
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::Status OptInt(MapReader& r, std::string_view key, int* out, int64_t lo, int64_t hi) {
  int64_t v = *out;
  GF_RETURN_IF_ERROR(r.Opt(key, &v, lo, hi));
  *out = static_cast<int>(v);
  return absl::OkStatus();
}

absl::Status GetName(MapReader& r, std::string_view key, std::string* out) {
  GF_RETURN_IF_ERROR(r.Get(key, out));
  if (out->empty()) return r.ErrorAt(key, absl::StrCat(Field(r, key), " is empty"), "a non-empty string");
  return absl::OkStatus();
}

absl::Status GetSources(MapReader& r, std::vector<std::string>* out) {
  if (!r.Has("sources")) {
    return r.Error(absl::StrCat(r.what(), " has no 'sources'"),
                   "a 'sources' list naming the public document (and date) behind each figure");
  }
  GF_RETURN_IF_ERROR(r.Opt("sources", out));
  if (out->empty()) {
    return r.ErrorAt("sources", absl::StrCat(Field(r, "sources"), " is empty"), "at least one source");
  }
  for (const auto& s : *out) {
    if (s.empty()) return r.ErrorAt("sources", absl::StrCat(Field(r, "sources"), " has an empty entry"), "non-empty strings");
  }
  return absl::OkStatus();
}

// Loads `path`, checks that its top level is exactly {key: [...]}, and returns the list.
absl::StatusOr<YAML::Node> LoadList(const std::string& path, const std::string& key) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  GF_ASSIGN_OR_RETURN(MapReader top, MapReader::Make(path, root, "the top level"));
  YAML::Node list = top.Raw(key);
  GF_RETURN_IF_ERROR(top.Finish());
  if (!list.IsDefined() || list.IsNull()) {
    return YamlError(path, root, absl::StrCat("the top level has no '", key, "' list"),
                     absl::StrCat("'", key, ":' followed by a list of entries"));
  }
  if (!list.IsSequence()) {
    return YamlError(path, list, absl::StrCat("'", key, "' is not a list"),
                     absl::StrCat("a list of entries, each starting with '- name: ...'"));
  }
  return list;
}

// Rejects a name seen before in the same file, pointing at the repeat and naming the first line.
absl::Status CheckUnique(const std::string& file, const YAML::Node& item, const std::string& name,
                         std::string_view kind, std::map<std::string, int>* first_line) {
  const YAML::Node name_node = item["name"];
  if (auto it = first_line->find(name); it != first_line->end()) {
    return YamlError(file, name_node,
                     absl::StrCat("duplicate ", std::string(kind), " name '", name, "' (first defined at line ", it->second, ")"),
                     absl::StrCat("a unique ", std::string(kind), " name"));
  }
  first_line->emplace(name, name_node.Mark().line + 1);
  return absl::OkStatus();
}

absl::StatusOr<GpuSpec> ParseGpu(const std::string& file, const YAML::Node& item, size_t index) {
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, item, absl::StrCat("gpus[", index, "]")));
  GF_RETURN_IF_ERROR(CheckKeys(r, kGpuKeys));
  GpuSpec g;
  GF_RETURN_IF_ERROR(GetName(r, "name", &g.name));
  GF_RETURN_IF_ERROR(r.GetEnum("vendor", Vendors(), &g.vendor));
  GF_RETURN_IF_ERROR(r.GetEnum("architecture", Architectures(), &g.architecture));
  GF_RETURN_IF_ERROR(GetNumber(r, "fp16_tflops", &g.fp16_tflops, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "fp8_tflops", &g.fp8_tflops, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "hbm_gb", &g.hbm_gb, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "hbm_gbps", &g.hbm_gbps, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "cache_mb", &g.cache_mb, 0, true));
  GF_RETURN_IF_ERROR(GetInt(r, "sm_count", &g.sm_count, 1, 100000));
  GF_RETURN_IF_ERROR(GetNumber(r, "boost_clock_mhz", &g.boost_clock_mhz, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "tdp_w", &g.tdp_w, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "idle_w", &g.idle_w, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "min_power_w", &g.min_power_w, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "max_power_w", &g.max_power_w, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "nvlink_gbps", &g.nvlink_gbps, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "pcie_gbps", &g.pcie_gbps, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "price_usd_per_hour", &g.price_usd_per_hour, 0, false));
  GF_RETURN_IF_ERROR(GetSources(r, &g.sources));
  GF_RETURN_IF_ERROR(r.Opt("notes", &g.notes));

  const std::string who = absl::StrCat("GPU '", g.name, "'");
  if (g.fp8_tflops != 0 && g.fp8_tflops < g.fp16_tflops) {
    return r.ErrorAt("fp8_tflops",
                     absl::StrCat(who, ": fp8_tflops ", g.fp8_tflops, " is below fp16_tflops ", g.fp16_tflops),
                     "0 (no fp8 tensor cores) or at least fp16_tflops (dense figures for both)");
  }
  if (g.idle_w >= g.tdp_w) {
    return r.ErrorAt("idle_w", absl::StrCat(who, ": idle_w ", g.idle_w, " is not below tdp_w ", g.tdp_w),
                     "idle_w < tdp_w");
  }
  if (g.min_power_w > g.tdp_w) {
    return r.ErrorAt("min_power_w",
                     absl::StrCat(who, ": min_power_w ", g.min_power_w, " is above tdp_w ", g.tdp_w),
                     "min_power_w <= tdp_w");
  }
  if (g.max_power_w < g.tdp_w) {
    return r.ErrorAt("max_power_w",
                     absl::StrCat(who, ": max_power_w ", g.max_power_w, " is below tdp_w ", g.tdp_w),
                     "max_power_w >= tdp_w");
  }
  return g;
}

absl::StatusOr<NodeSpec> ParseNode(const std::string& file, const YAML::Node& item, size_t index,
                                   const std::map<std::string, GpuSpec>& gpus, const std::string& gpus_file) {
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, item, absl::StrCat("nodes[", index, "]")));
  GF_RETURN_IF_ERROR(CheckKeys(r, kNodeKeys));
  NodeSpec n;
  GF_RETURN_IF_ERROR(GetName(r, "name", &n.name));
  GF_RETURN_IF_ERROR(GetName(r, "gpu", &n.gpu));
  if (!gpus.count(n.gpu)) {
    std::vector<std::string> names;
    for (const auto& [name, spec] : gpus) names.push_back(name);
    std::string hint;
    if (std::string close = ClosestMatch(n.gpu, names); !close.empty()) {
      hint = absl::StrCat(" (did you mean '", close, "'?)");
    }
    return r.ErrorAt("gpu", absl::StrCat("node '", n.name, "' uses unknown GPU '", n.gpu, "'", hint),
                     absl::StrCat("a GPU defined in ", gpus_file, ": ", absl::StrJoin(names, ", ")));
  }
  GF_RETURN_IF_ERROR(GetInt(r, "gpus_per_node", &n.gpus_per_node, 1, 1024));
  GF_RETURN_IF_ERROR(r.GetEnum("intra_fabric", Fabrics(), &n.intra_fabric));
  GF_RETURN_IF_ERROR(GetNumber(r, "intra_gbps", &n.intra_gbps, 0, true));
  GF_RETURN_IF_ERROR(GetNumber(r, "network_gbps", &n.network_gbps, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "price_usd_per_hour", &n.price_usd_per_hour, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "non_gpu_idle_w", &n.non_gpu_idle_w, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "non_gpu_max_w", &n.non_gpu_max_w, 0, false));
  if (n.non_gpu_idle_w > n.non_gpu_max_w) {
    return r.ErrorAt("non_gpu_idle_w",
                     absl::StrCat("node '", n.name, "': non_gpu_idle_w ", n.non_gpu_idle_w,
                                  " is above non_gpu_max_w ", n.non_gpu_max_w),
                     "non_gpu_idle_w <= non_gpu_max_w");
  }
  GF_RETURN_IF_ERROR(GetSources(r, &n.sources));
  GF_RETURN_IF_ERROR(r.Opt("notes", &n.notes));
  return n;
}

absl::StatusOr<LlmSpec> ParseLlm(const std::string& file, const YAML::Node& item, size_t index) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, item, absl::StrCat("llms[", index, "]")));
  GF_RETURN_IF_ERROR(CheckKeys(r, kLlmKeys));
  LlmSpec m;
  GF_RETURN_IF_ERROR(GetName(r, "name", &m.name));
  GF_RETURN_IF_ERROR(GetName(r, "hf_id", &m.hf_id));
  GF_RETURN_IF_ERROR(GetInt(r, "layers", &m.layers, 1, kMax));
  GF_RETURN_IF_ERROR(GetInt(r, "hidden", &m.hidden, 1, kMax));
  GF_RETURN_IF_ERROR(GetInt(r, "heads", &m.heads, 1, kMax));
  GF_RETURN_IF_ERROR(GetInt(r, "kv_heads", &m.kv_heads, 1, kMax));
  const std::string who = absl::StrCat("model '", m.name, "'");
  if (m.heads % m.kv_heads != 0) {
    return r.ErrorAt("kv_heads",
                     absl::StrCat(who, ": heads ", m.heads, " is not a multiple of kv_heads ", m.kv_heads),
                     "kv_heads dividing heads (grouped-query attention)");
  }
  if (r.Has("head_dim")) {
    GF_RETURN_IF_ERROR(GetInt(r, "head_dim", &m.head_dim, 1, kMax));
  } else if (m.hidden % m.heads != 0) {
    return r.ErrorAt("heads",
                     absl::StrCat(who, ": hidden ", m.hidden, " is not a multiple of heads ", m.heads),
                     "an explicit head_dim when hidden / heads is not whole");
  } else {
    m.head_dim = m.hidden / m.heads;
  }
  GF_RETURN_IF_ERROR(GetInt(r, "ffn", &m.ffn, 1, kMax));
  GF_RETURN_IF_ERROR(GetInt(r, "vocab", &m.vocab, 1, kMax));
  GF_RETURN_IF_ERROR(r.Get("gated_mlp", &m.gated_mlp));
  GF_RETURN_IF_ERROR(OptInt(r, "num_experts", &m.num_experts, 1, 4096));
  GF_RETURN_IF_ERROR(OptInt(r, "experts_per_token", &m.experts_per_token, 1, m.num_experts));
  GF_RETURN_IF_ERROR(r.Opt("tied_embeddings", &m.tied_embeddings));
  GF_RETURN_IF_ERROR(r.GetEnum("dtype", Dtypes(), &m.dtype));
  GF_RETURN_IF_ERROR(GetInt(r, "max_context", &m.max_context, 1, kMax));
  GF_RETURN_IF_ERROR(GetSources(r, &m.sources));
  GF_RETURN_IF_ERROR(r.Opt("notes", &m.notes));
  return m;
}

template <typename Spec>
std::vector<std::string> Keys(const std::map<std::string, Spec>& m) {
  std::vector<std::string> out;
  out.reserve(m.size());
  for (const auto& [name, spec] : m) out.push_back(name);
  return out;
}

template <typename Spec>
const Spec* Find(const std::map<std::string, Spec>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

// Latencies are written in microseconds (the scale datasheets quote) and kept in seconds.
absl::StatusOr<FabricPreset> ParseFabric(const std::string& file, const YAML::Node& item, size_t index) {
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, item, absl::StrCat("fabrics[", index, "]")));
  GF_RETURN_IF_ERROR(CheckKeys(r, kFabricKeys));
  FabricPreset f;
  GF_RETURN_IF_ERROR(GetName(r, "name", &f.name));
  double nic_us = 0, switch_us = 0, intra_us = 0;
  GF_RETURN_IF_ERROR(GetNumber(r, "nic_latency_us", &nic_us, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "switch_latency_us", &switch_us, 0, false));
  GF_RETURN_IF_ERROR(GetNumber(r, "intra_latency_us", &intra_us, 0, false));
  f.nic_latency_s = nic_us * 1e-6;
  f.switch_latency_s = switch_us * 1e-6;
  f.intra_latency_s = intra_us * 1e-6;
  GF_RETURN_IF_ERROR(GetSources(r, &f.sources));
  GF_RETURN_IF_ERROR(r.Opt("notes", &f.notes));
  return f;
}

}  // namespace

double LlmSpec::ParamCount() const {
  const double h = hidden, hd = head_dim > 0 ? head_dim : (heads > 0 ? double(hidden) / heads : 0);
  const double experts = num_experts > 0 ? num_experts : 1;
  const double embedding = double(vocab) * h;
  const double lm_head = tied_embeddings ? 0 : double(vocab) * h;
  const double attention = 2 * h * heads * hd + 2 * h * kv_heads * hd;  // q, o + k, v
  double mlp = (gated_mlp ? 3 : 2) * h * ffn * experts;
  if (experts > 1) mlp += h * experts;  // router
  const double norms = 2 * h;
  return embedding + lm_head + layers * (attention + mlp + norms) + h;  // + final norm
}

double LlmSpec::KvBytesPerToken() const {
  return 2.0 * layers * kv_heads * head_dim * dtype_bytes();
}

absl::StatusOr<Catalog> Catalog::LoadFromDir(const std::string& dir) {
  Catalog c;
  const std::string gpus_path = Join(dir, kGpusFile);
  const std::string nodes_path = Join(dir, kNodesFile);
  const std::string llms_path = Join(dir, kLlmsFile);

  {
    GF_ASSIGN_OR_RETURN(YAML::Node list, LoadList(gpus_path, "gpus"));
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < list.size(); ++i) {
      GF_ASSIGN_OR_RETURN(GpuSpec g, ParseGpu(gpus_path, list[i], i));
      GF_RETURN_IF_ERROR(CheckUnique(gpus_path, list[i], g.name, "GPU", &first_line));
      c.gpus_.emplace(g.name, std::move(g));
    }
  }
  {
    GF_ASSIGN_OR_RETURN(YAML::Node list, LoadList(nodes_path, "nodes"));
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < list.size(); ++i) {
      GF_ASSIGN_OR_RETURN(NodeSpec n, ParseNode(nodes_path, list[i], i, c.gpus_, gpus_path));
      GF_RETURN_IF_ERROR(CheckUnique(nodes_path, list[i], n.name, "node", &first_line));
      c.nodes_.emplace(n.name, std::move(n));
    }
  }
  {
    GF_ASSIGN_OR_RETURN(YAML::Node list, LoadList(llms_path, "llms"));
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < list.size(); ++i) {
      GF_ASSIGN_OR_RETURN(LlmSpec m, ParseLlm(llms_path, list[i], i));
      GF_RETURN_IF_ERROR(CheckUnique(llms_path, list[i], m.name, "model", &first_line));
      c.llms_.emplace(m.name, std::move(m));
    }
  }
  // Optional: a catalog without it (an older copy, a test's) has no presets, and scenarios that name
  // none get the scenario defaults (sim/scenario/scenario.h, FabricSpec).
  if (const std::string fabrics_path = Join(dir, kFabricsFile); std::filesystem::exists(fabrics_path)) {
    GF_ASSIGN_OR_RETURN(YAML::Node list, LoadList(fabrics_path, "fabrics"));
    std::map<std::string, int> first_line;
    for (size_t i = 0; i < list.size(); ++i) {
      GF_ASSIGN_OR_RETURN(FabricPreset f, ParseFabric(fabrics_path, list[i], i));
      GF_RETURN_IF_ERROR(CheckUnique(fabrics_path, list[i], f.name, "fabric", &first_line));
      c.fabrics_.emplace(f.name, std::move(f));
    }
  }
  return c;
}

std::string Catalog::DefaultDir() {
  if (const char* env = std::getenv("GPUFLEET_DATA_DIR"); env != nullptr && env[0] != '\0') {
    return (std::filesystem::path(env) / "models" / "catalog").string();
  }
  return GPUFLEET_SOURCE_DIR "/models/catalog";
}

absl::StatusOr<Catalog> Catalog::LoadDefault() { return LoadFromDir(DefaultDir()); }

const GpuSpec* Catalog::FindGpu(const std::string& name) const { return Find(gpus_, name); }
const NodeSpec* Catalog::FindNode(const std::string& name) const { return Find(nodes_, name); }
const LlmSpec* Catalog::FindLlm(const std::string& name) const { return Find(llms_, name); }
const FabricPreset* Catalog::FindFabric(const std::string& name) const { return Find(fabrics_, name); }

double Catalog::NodePriceUsdPerHour(const NodeSpec& node) const {
  if (node.price_usd_per_hour > 0) return node.price_usd_per_hour;
  const GpuSpec* gpu = FindGpu(node.gpu);
  return gpu == nullptr ? 0 : gpu->price_usd_per_hour * node.gpus_per_node;
}

std::vector<std::string> Catalog::GpuNames() const { return Keys(gpus_); }
std::vector<std::string> Catalog::NodeNames() const { return Keys(nodes_); }
std::vector<std::string> Catalog::LlmNames() const { return Keys(llms_); }
std::vector<std::string> Catalog::FabricNames() const { return Keys(fabrics_); }

}  // namespace gpufleet
