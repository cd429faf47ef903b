// Calibration profile files: loading, writing, and derivation for GPUs without measurements.
#include "models/calibration/gpu_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <utility>
#include <limits>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/atomic_file.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

// A parameter read with its range; every key of a section is required so a profile is complete.
struct Param {
  const char* key;
  double* value;
  double min, max;
  bool optional = false;  // read when present; written only when non-zero
};

// Each section's parameters with their ranges: the reader checks and fills them, the writer emits them
// in the same order, so a key added to the model is added in one place.
std::vector<Param> GemmFields(GemmParams& x) {
  return {
      {"launch_s", &x.launch_s, 0, 1e-2},
      {"compute_efficiency", &x.compute_efficiency, 1e-3, 1.5},
      {"m_half", &x.m_half, 0, 1e6},
      {"n_half", &x.n_half, 0, 1e7},
      {"memory_efficiency", &x.memory_efficiency, 1e-3, 1.5},
      {"smoothness", &x.smoothness, 0.2, 50},
      {"cache_speedup", &x.cache_speedup, 0, 10},
      {"qkv_factor", &x.qkv_factor, 0.2, 5},
      {"attn_out_factor", &x.attn_out_factor, 0.2, 5},
      {"mlp_up_factor", &x.mlp_up_factor, 0.2, 5},
      {"mlp_down_factor", &x.mlp_down_factor, 0.2, 5},
      {"sustained_slowdown", &x.sustained_slowdown, 0, 2},
      {"sustained_s", &x.sustained_s, 1e-7, 10},
  };
}

std::vector<Param> StreamFields(StreamParams& x) {
  return {
      {"launch_s", &x.launch_s, 0, 1e-2},
      {"memory_efficiency", &x.memory_efficiency, 1e-3, 5},
      {"smoothness", &x.smoothness, 0.2, 50},
      {"cache_speedup", &x.cache_speedup, 0, 10},
      {"wave_rows_per_sm", &x.wave_rows_per_sm, 0, 1000},
      {"cache_fraction", &x.cache_fraction, 0, 100},
  };
}

std::vector<Param> AttentionFields(AttentionParams& x) {
  return {
      {"launch_s", &x.launch_s, 0, 1e-2},
      {"prefill_efficiency", &x.prefill_efficiency, 1e-3, 1.5},
      {"decode_memory_efficiency", &x.decode_memory_efficiency, 1e-3, 1.5},
  };
}

std::vector<Param> AllReduceFields(AllReduceParams& x) {
  return {
      {"launch_s", &x.launch_s, 0, 1e-2},
      {"step_latency_s", &x.step_latency_s, 0, 1e-2},
      {"bandwidth_efficiency", &x.bandwidth_efficiency, 1e-3, 1.5},
  };
}

std::vector<Param> FrameworkFields(FrameworkParams& x) {
  return {
      {"iteration_overhead_s", &x.iteration_overhead_s, 0, 10},
      {"per_sequence_s", &x.per_sequence_s, 0, 1},
      {"per_rank_s", &x.per_rank_s, 0, 1},
      {"prefill_launch_per_layer_s", &x.prefill_launch_per_layer_s, 0, 1},
      {"launch_overlap", &x.launch_overlap, 1, 64},
      {"throttle_slowdown", &x.throttle_slowdown, 0, 20},
      {"peer_slowdown", &x.peer_slowdown, 0, 20},
      {"throttle_tokens", &x.throttle_tokens, 1, 1e9},
      {"throttle_sharpness", &x.throttle_sharpness, 0.25, 16},
      {"throttle_busy_s", &x.throttle_busy_s, 0, 1e3, true},
  };
}

absl::Status ReadSection(MapReader& top, const char* name, std::vector<Param> params) {
  GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(top.file(), top.Raw(name),
                                                   top.what() == "profile" ? name : absl::StrCat(top.what(), ".", name)));
  for (Param& p : params) GF_RETURN_IF_ERROR(p.optional ? m.Opt(p.key, p.value, p.min, p.max) : m.Get(p.key, p.value, p.min, p.max));
  return m.Finish();
}

absl::Status ReadFit(MapReader& top, GpuProfile* p) {
  if (!top.Has("fit")) {
    top.Raw("fit");
    return absl::OkStatus();
  }
  GF_ASSIGN_OR_RETURN(MapReader fit, MapReader::Make(top.file(), top.Raw("fit"), "fit"));
  for (const auto& kv : fit.node()) {
    const std::string name = kv.first.Scalar();
    GF_ASSIGN_OR_RETURN(MapReader e, MapReader::Make(top.file(), fit.Raw(name), absl::StrCat("fit.", name)));
    FitError err;
    int64_t n = 0;
    GF_RETURN_IF_ERROR(e.Get("method", &err.method));
    GF_RETURN_IF_ERROR(e.Get("median_ape", &err.median_ape, 0));
    GF_RETURN_IF_ERROR(e.Get("mape", &err.mape, 0));
    GF_RETURN_IF_ERROR(e.Get("p90_ape", &err.p90_ape, 0));
    GF_RETURN_IF_ERROR(e.Get("max_ape", &err.max_ape, 0));
    GF_RETURN_IF_ERROR(e.Get("n", &n, 0));
    err.n = n;
    GF_RETURN_IF_ERROR(e.Finish());
    p->fit[name] = err;
  }
  return fit.Finish();
}

// The content digests of the measurement sets the profile was fitted on: a list of {digest, what}; absent in
// profiles written before them.
absl::Status ReadFittedOn(MapReader& top, GpuProfile* p) {
  if (!top.Has("fitted_on")) {
    top.Raw("fitted_on");
    return absl::OkStatus();
  }
  const YAML::Node list = top.Raw("fitted_on");
  if (!list.IsSequence()) {
    return YamlError(top.file(), list, "fitted_on is not a list", "a list of {digest: \"fnv1a64:...\", what: PATH}");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    GF_ASSIGN_OR_RETURN(MapReader e, MapReader::Make(top.file(), list[i], absl::StrCat("fitted_on[", i, "]")));
    GpuProfile::FittedSet f;
    GF_RETURN_IF_ERROR(e.Get("digest", &f.digest));
    GF_RETURN_IF_ERROR(e.Get("what", &f.what));
    GF_RETURN_IF_ERROR(e.Finish());
    if (!f.digest.starts_with("fnv1a64:") || f.digest.size() != 24 ||
        f.digest.find_first_not_of("0123456789abcdef", 8) != std::string::npos) {
      return e.ErrorAt("digest", absl::StrCat(e.what(), ".digest is '", f.digest, "'"),
                       "\"fnv1a64:\" and 16 lower-case hex digits");
    }
    p->fitted_on.push_back(std::move(f));
  }
  return absl::OkStatus();
}

// The measured GEMM shapes: a list of {n, k, m: [...], factor: [...]} with m increasing, at most one
// entry per (n, k).
absl::Status ReadGemmShapes(MapReader& top, GpuProfile* p) {
  if (!top.Has("gemm_shapes")) {
    top.Raw("gemm_shapes");
    return absl::OkStatus();
  }
  const YAML::Node list = top.Raw("gemm_shapes");
  if (!list.IsSequence()) {
    return YamlError(top.file(), list, "gemm_shapes is not a list", "a list of {n, k, m: [...], factor: [...]}");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    GF_ASSIGN_OR_RETURN(MapReader e, MapReader::Make(top.file(), list[i], absl::StrCat("gemm_shapes[", i, "]")));
    GemmShapeCorrection c;
    GF_RETURN_IF_ERROR(e.Get("n", &c.n, 1));
    GF_RETURN_IF_ERROR(e.Get("k", &c.k, 1));
    GF_RETURN_IF_ERROR(e.Get("m", &c.m, 1e-3, 1e9));
    GF_RETURN_IF_ERROR(e.Get("factor", &c.factor, kMinGemmShapeFactor, kMaxGemmShapeFactor));
    GF_RETURN_IF_ERROR(e.Finish());
    if (c.m.empty() || c.m.size() != c.factor.size()) {
      return e.ErrorAt("factor", absl::StrCat(e.what(), " has ", c.m.size(), " m values and ", c.factor.size(), " factors"),
                       "one factor per m, at least one");
    }
    for (size_t j = 1; j < c.m.size(); ++j) {
      if (c.m[j] <= c.m[j - 1]) {
        return e.ErrorAt("m", absl::StrCat(e.what(), ".m is not increasing at position ", j + 1, " (", c.m[j - 1],
                                           " then ", c.m[j], ")"),
                         "m values in increasing order");
      }
    }
    for (const GemmShapeCorrection& other : p->gemm_shapes) {
      if (other.n == c.n && other.k == c.k) {
        return e.Error(absl::StrCat(e.what(), " repeats the shape n ", c.n, ", k ", c.k), "one entry per (n, k)");
      }
    }
    p->gemm_shapes.push_back(std::move(c));
  }
  std::sort(p->gemm_shapes.begin(), p->gemm_shapes.end(),
            [](const auto& a, const auto& b) { return std::pair{a.n, a.k} < std::pair{b.n, b.k}; });
  return absl::OkStatus();
}

// One entry per line: a shape's knots read across.
void EmitGemmShapes(YAML::Emitter& out, const std::vector<GemmShapeCorrection>& shapes) {
  if (shapes.empty()) return;
  out << YAML::Key << "gemm_shapes" << YAML::Value << YAML::BeginSeq;
  for (const GemmShapeCorrection& c : shapes) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "n" << YAML::Value << c.n << YAML::Key << "k" << YAML::Value << c.k;
    out << YAML::Key << "m" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (double m : c.m) out << absl::StrFormat("%.17g", m);
    out << YAML::EndSeq;
    out << YAML::Key << "factor" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (double f : c.factor) out << absl::StrFormat("%.4g", f);
    out << YAML::EndSeq;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

// One parameter block; `flow` puts it on one line (the stream kinds).
void EmitSection(YAML::Emitter& out, const std::string& name, const std::vector<Param>& values, bool flow = false) {
  out << YAML::Key << name << YAML::Value;
  if (flow) out << YAML::Flow;
  out << YAML::BeginMap;
  for (const Param& v : values) {
    if (v.optional && *v.value == 0) continue;
    out << YAML::Key << v.key << YAML::Value << absl::StrFormat("%.6g", *v.value);
  }
  out << YAML::EndMap;
}

double LogDistance(const GpuSpec& a, const GpuSpec& b) {
  const double flops = std::log(a.fp16_tflops / b.fp16_tflops);
  const double bw = std::log(a.hbm_gbps / b.hbm_gbps);
  return flops * flops + bw * bw;
}

}  // namespace

std::string ProfileFileName(const std::string& gpu) { return gpu + ".yaml"; }

std::string CalibrationRoot() {
  if (const char* env = std::getenv("GPUFLEET_DATA_DIR"); env != nullptr && *env != '\0') {
    return std::string(env) + "/models/calibration";
  }
  return std::string(GPUFLEET_SOURCE_DIR) + "/models/calibration";
}

absl::StatusOr<GpuProfile> LoadGpuProfile(const std::string& path) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  GF_ASSIGN_OR_RETURN(MapReader top, MapReader::Make(path, root, "profile"));
  // Keys change with the model's equations; say so rather than list missing keys one run at a time.
  int64_t revision = 0;
  GF_RETURN_IF_ERROR(top.Opt("model_revision", &revision));
  if (revision < kOldestReadableProfileRevision || revision > kProfileModelRevision) {
    const std::string what = absl::StrCat("this profile was written by ",
                                          revision < kProfileModelRevision ? "an older" : "a newer",
                                          " gpufleet (operator model revision ", revision, ", this one reads ",
                                          kOldestReadableProfileRevision, " to ", kProfileModelRevision, ")");
    const std::string expected = "a profile from this `gpufleet calibrate`: regenerate it (models/calibration/README.md)";
    return top.ErrorAt(root["model_revision"] ? "model_revision" : "gpu", what, expected);
  }
  GpuProfile p;
  GF_RETURN_IF_ERROR(top.Get("gpu", &p.gpu));
  GF_RETURN_IF_ERROR(top.Opt("serving_stack", &p.serving_stack));  // profiles before stacks: none
  GF_RETURN_IF_ERROR(top.GetEnum("status", {"calibrated", "uncalibrated"}, &p.status));
  GF_RETURN_IF_ERROR(top.Opt("derived_from", &p.derived_from));
  GF_RETURN_IF_ERROR(top.Opt("framework_from", &p.framework_from));
  GF_RETURN_IF_ERROR(top.Get("created", &p.created));
  GF_RETURN_IF_ERROR(top.Opt("command", &p.command));
  GF_RETURN_IF_ERROR(top.Opt("sources", &p.sources));
  GF_RETURN_IF_ERROR(ReadFittedOn(top, &p));
  GF_RETURN_IF_ERROR(ReadSection(top, "gemm", GemmFields(p.gemm)));
  {
    GF_ASSIGN_OR_RETURN(MapReader streams, MapReader::Make(path, top.Raw("stream"), "stream"));
    for (const std::string& kind : StreamKinds()) {
      StreamParams& sp = p.stream[kind];
      GF_RETURN_IF_ERROR(ReadSection(streams, kind.c_str(), StreamFields(sp)));
    }
    GF_RETURN_IF_ERROR(streams.Finish());
  }
  GF_RETURN_IF_ERROR(ReadSection(top, "attention", AttentionFields(p.attention)));
  GF_RETURN_IF_ERROR(ReadSection(top, "allreduce", AllReduceFields(p.allreduce)));
  GF_RETURN_IF_ERROR(ReadSection(top, "framework", FrameworkFields(p.framework)));
  GF_RETURN_IF_ERROR(ReadGemmShapes(top, &p));
  GF_RETURN_IF_ERROR(ReadFit(top, &p));
  GF_RETURN_IF_ERROR(top.Finish());
  return p;
}

absl::Status WriteGpuProfile(const GpuProfile& p, const std::string& path) {
  YAML::Emitter out;
  out << YAML::Comment(absl::StrCat("gpufleet calibration profile for ", p.gpu,
                                    ". Fitted parameters of the operator model (docs/perf-model.md)."));
  out << YAML::BeginMap;
  out << YAML::Key << "gpu" << YAML::Value << p.gpu;
  out << YAML::Key << "serving_stack" << YAML::Value << p.serving_stack;
  out << YAML::Key << "status" << YAML::Value << p.status;
  out << YAML::Key << "model_revision" << YAML::Value << kProfileModelRevision;
  if (!p.derived_from.empty()) out << YAML::Key << "derived_from" << YAML::Value << p.derived_from;
  if (!p.framework_from.empty()) out << YAML::Key << "framework_from" << YAML::Value << p.framework_from;
  out << YAML::Key << "created" << YAML::Value << p.created;
  if (!p.command.empty()) out << YAML::Key << "command" << YAML::Value << p.command;
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : p.sources) out << s;
  out << YAML::EndSeq;
  if (!p.fitted_on.empty()) {
    out << YAML::Key << "fitted_on" << YAML::Value << YAML::BeginSeq;
    for (const auto& f : p.fitted_on) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "digest" << YAML::Value << f.digest << YAML::Key << "what"
          << YAML::Value << f.what << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  GpuProfile q = p;  // the field tables take non-const references
  EmitSection(out, "gemm", GemmFields(q.gemm));
  out << YAML::Key << "stream" << YAML::Value << YAML::BeginMap;
  for (const std::string& kind : StreamKinds()) {
    EmitSection(out, kind, StreamFields(q.stream.at(kind)), /*flow=*/true);
  }
  out << YAML::EndMap;
  EmitSection(out, "attention", AttentionFields(q.attention));
  EmitSection(out, "allreduce", AllReduceFields(q.allreduce));
  EmitSection(out, "framework", FrameworkFields(q.framework));
  if (!p.fit.empty()) {
    out << YAML::Key << "fit" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, e] : p.fit) {
      out << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "method" << YAML::Value << e.method;
      out << YAML::Key << "median_ape" << YAML::Value << absl::StrFormat("%.4f", e.median_ape);
      out << YAML::Key << "mape" << YAML::Value << absl::StrFormat("%.4f", e.mape);
      out << YAML::Key << "p90_ape" << YAML::Value << absl::StrFormat("%.4f", e.p90_ape);
      out << YAML::Key << "max_ape" << YAML::Value << absl::StrFormat("%.4f", e.max_ape);
      out << YAML::Key << "n" << YAML::Value << e.n;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  EmitGemmShapes(out, p.gemm_shapes);
  out << YAML::EndMap;
  return WriteFileAtomically(path, std::string(out.c_str()) + "\n");
}

namespace {

// The calibrated profiles in `dir` for GPUs of the catalog, in file-name order.
absl::StatusOr<std::vector<GpuProfile>> CalibratedProfiles(const Catalog& catalog, const std::string& dir) {
  std::vector<GpuProfile> out;
  if (!std::filesystem::is_directory(dir)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    GF_ASSIGN_OR_RETURN(GpuProfile p, LoadGpuProfile(f.string()));
    if (p.calibrated() && catalog.FindGpu(p.gpu) != nullptr) out.push_back(std::move(p));
  }
  return out;
}

// The profile among `candidates` (accepted by `keep`) nearest to `gpu`: same architecture first, then
// closest peak flops and bandwidth; nullptr if none.
const GpuProfile* Nearest(const GpuSpec& gpu, const Catalog& catalog, const std::vector<GpuProfile>& candidates,
                          const std::function<bool(const GpuProfile&)>& keep) {
  const GpuProfile* best = nullptr;
  double best_score = std::numeric_limits<double>::infinity();
  for (const GpuProfile& p : candidates) {
    if (!keep(p)) continue;
    const GpuSpec& other = *catalog.FindGpu(p.gpu);
    const double score = (other.architecture == gpu.architecture ? 0 : 100) + LogDistance(gpu, other);
    if (score < best_score) {
      best_score = score;
      best = &p;
    }
  }
  return best;
}

}  // namespace

GpuProfile DeriveProfile(const GpuSpec& gpu, const GpuProfile& donor, const GpuSpec& donor_gpu) {
  GpuProfile p = donor;
  p.gpu = gpu.name;
  p.status = "uncalibrated";
  p.derived_from = donor.gpu;
  p.framework_from.clear();
  p.sources = {absl::StrCat("spec sheet of ", gpu.name, " (models/catalog/gpus.yaml) with the efficiencies of ",
                            donor.gpu, " (memory-bound kernels rescaled by SM throughput)")};
  p.command.clear();
  p.fit.clear();
  p.gemm_shapes.clear();  // another GPU's kernel choices
  // A memory-bound kernel reaches the lower of two rates: what its SMs can issue (scaling with SM count x
  // clock) and a share of the memory bandwidth (the donor's GEMM memory efficiency, or the kind's own
  // where the cache lifts it higher). The donor's measured efficiency e is their smooth minimum
  // (e^-q = s^-q + c^-q, q = 4), which gives its issue rate s; on the new GPU that rate scales by SMs x
  // clock and meets the new bandwidth. A kind at the bandwidth share (s unbounded) keeps it. Copying e
  // instead put the A40's embedding, rotary and norm kernels 60-220% off when derived from the A100
  // (docs/perf-model.md, derived profiles).
  constexpr double q = 4;
  const double issue = (gpu.sm_count * gpu.boost_clock_mhz) / (donor_gpu.sm_count * donor_gpu.boost_clock_mhz);
  const double bandwidth = gpu.hbm_gbps / donor_gpu.hbm_gbps;
  if (issue > 0 && bandwidth > 0) {
    for (auto& [kind, k] : p.stream) {
      const double e = k.memory_efficiency;
      const double c = std::max(donor.gemm.memory_efficiency, e);
      if (!(e > 0) || e >= c) continue;
      const double s = std::pow(std::pow(e, -q) - std::pow(c, -q), -1 / q) * issue / bandwidth;
      k.memory_efficiency = std::pow(std::pow(s, -q) + std::pow(c, -q), -1 / q);
    }
  }
  return p;
}

absl::StatusOr<GpuProfile> ProfileForGpu(const GpuSpec& gpu, const Catalog& catalog, const std::string& dir) {
  const std::string own = dir + "/" + ProfileFileName(gpu.name);
  GpuProfile p;
  const bool has_own = std::filesystem::exists(own);
  if (has_own) {
    GF_ASSIGN_OR_RETURN(p, LoadGpuProfile(own));
    if (p.has_end_to_end_fit() || !p.framework_from.empty()) return p;
  }
  // Something has to be borrowed: read the other profiles (a bad one is named, with what was looked for).
  absl::StatusOr<std::vector<GpuProfile>> calibrated = CalibratedProfiles(catalog, dir);
  if (!calibrated.ok()) {
    return absl::Status(calibrated.status().code(),
                        absl::StrCat(calibrated.status().message(), " (while looking for a profile to borrow from for ",
                                     gpu.name, ")"));
  }
  if (!has_own) {
    const GpuProfile* best = Nearest(gpu, catalog, *calibrated, [](const GpuProfile&) { return true; });
    if (best != nullptr) {
      p = DeriveProfile(gpu, *best, *catalog.FindGpu(best->gpu));
      if (best->has_end_to_end_fit()) return p;  // its framework came along
    } else {
      p.gpu = gpu.name;
      p.derived_from = "built-in defaults";
      p.sources = {absl::StrCat("spec sheet of ", gpu.name, " (models/catalog/gpus.yaml) with the built-in efficiencies")};
    }
  }
  const GpuProfile* e2e =
      Nearest(gpu, catalog, *calibrated, [](const GpuProfile& c) { return c.has_end_to_end_fit(); });
  if (e2e != nullptr) {
    p.framework = e2e->framework;
    p.framework_from = e2e->gpu;
    p.sources.push_back(absl::StrCat(kBorrowedFrameworkSource, e2e->gpu, ", the nearest GPU with end-to-end measurements"));
  }
  return p;
}

}  // namespace gpufleet
