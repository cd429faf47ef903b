// Calibration and validation against the published measurement sets (see calibrate.h).
#include "models/calibration/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "models/calibrated_perf_model.h"
#include "models/calibration/fit.h"
#include "models/calibration/gemm_shapes.h"
#include "models/calibration/model_names.h"
#include "models/calibration/operator_model.h"
#include "models/calibration/nelder_mead.h"
#include "sim/util/fnv1a.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

std::string Today() { return UtcNow("%Y-%m-%d"); }

template <class Sample>
std::vector<Sample> Where(const std::vector<Sample>& all, const std::function<bool(const Sample&)>& keep) {
  std::vector<Sample> out;
  for (const Sample& s : all)
    if (keep(s)) out.push_back(s);
  return out;
}

// The all-reduce rows that stay inside one node (tensor parallelism's case).
std::vector<CollectiveSample> IntraNodeAllReduces(const std::vector<CollectiveSample>& all) {
  return Where<CollectiveSample>(all, [](const CollectiveSample& s) {
    return s.collective == "all_reduce" && s.ranks >= 2 && s.ranks <= s.devices_per_node;
  });
}

std::string ModelFold(const GemmSample& s) { return s.origin.model; }

// Leave-one-model-out GEMM errors of the equation alone and, with `shapes`, with each fold's measured
// shapes (a held-out model whose weight shapes another model shares gets their measurements).
struct GemmCv {
  std::vector<double> with_shapes, equation;
};
GemmCv GemmApeCv(const std::vector<GemmSample>& gemms, const GpuSpec& gpu, const GemmParams& start, bool shapes) {
  GemmCv cv;
  cv.with_shapes = CrossValidatedApe<GemmSample>(
      gemms, ModelFold,
      [&](const std::vector<GemmSample>& train, const std::vector<GemmSample>& test) {
        const GpuProfile fitted = FitGemmProfile(train, gpu, start, shapes);
        const OperatorModel model(fitted, gpu, 0);
        std::vector<double> out;
        for (const auto& s : test) {
          out.push_back(PredictGemm(model, s));
          cv.equation.push_back(std::fabs(PredictGemm(fitted.gemm, gpu, s) / s.time_s - 1));
        }
        return out;
      },
      [](const GemmSample& s) { return s.time_s; }, static_cast<size_t>(GemmParameters(gemms)));
  return cv;
}

}  // namespace

std::vector<double> ShapeInterpolationApe(const std::vector<GemmSample>& gemms, const GpuSpec& gpu,
                                          const GemmParams& start) {
  std::map<std::pair<int64_t, int64_t>, std::set<int64_t>> sizes;
  for (const auto& s : gemms) sizes[{s.n, s.k}].insert(s.m);
  // Odd positions only, and never the largest size: every held-out size lies between two kept ones.
  auto held_out = [&](const GemmSample& s) {
    const std::set<int64_t>& ms = sizes.at({s.n, s.k});
    const auto i = std::distance(ms.begin(), ms.find(s.m));
    return i % 2 == 1 && i + 1 < static_cast<std::ptrdiff_t>(ms.size());
  };
  const std::vector<GemmSample> train = Where<GemmSample>(gemms, [&](const GemmSample& s) { return !held_out(s); });
  const OperatorModel model(FitGemmProfile(train, gpu, start, /*shapes=*/true), gpu, 0);
  std::vector<double> ape;
  for (const auto& s : gemms)
    if (held_out(s)) ape.push_back(std::fabs(PredictGemm(model, s) / s.time_s - 1));
  return ape;
}

namespace {

std::vector<double> StreamApeCv(const std::vector<ElementwiseSample>& samples, const GpuSpec& gpu,
                                const std::map<std::string, StreamParams>& start) {
  return CrossValidatedApe<ElementwiseSample>(
      samples, [](const ElementwiseSample& s) { return s.origin.model; },
      [&](const std::vector<ElementwiseSample>& train, const std::vector<ElementwiseSample>& test) {
        const auto p = FitStreams(train, gpu, start);
        std::vector<double> out;
        for (const auto& s : test) out.push_back(PredictStream(p, gpu, s));
        return out;
      },
      [](const ElementwiseSample& s) { return s.time_s; });
}

// Whether a profile source entry ("PATH (description)") names the measurement set at `path`. Profiles record
// paths as given when they were made (often relative), so compare the last two path components.
bool SameMeasurementSet(const std::string& source_entry, const std::string& path) {
  auto tail = [](const std::string& p) {
    std::filesystem::path norm = std::filesystem::path(p).lexically_normal();
    if (!norm.has_filename()) norm = norm.parent_path();
    return (norm.parent_path().filename() / norm.filename()).string();
  };
  const std::string source_path = source_entry.substr(0, source_entry.find(" ("));
  return tail(source_path) == tail(path);
}

// The path part of a profile source entry ("PATH (description)").
std::string SourcePath(const std::string& source_entry) { return source_entry.substr(0, source_entry.find(" (")); }


// Hashes the file at `path` into `h`, reading it in blocks.
absl::Status HashFile(const std::string& path, uint64_t* h) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open measurement file"));
  std::vector<char> buffer(size_t{1} << 20);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) *h = Fnv1a(std::string_view(buffer.data(), n), *h);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MeasurementSetDigest(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t h = kFnv1aOffset;
  if (fs::is_directory(path, ec)) {
    std::vector<std::pair<std::string, fs::path>> files;  // relative path, path
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file()) files.emplace_back(it->path().lexically_relative(path).generic_string(), it->path());
    }
    if (ec) return absl::DataLossError(absl::StrCat(path, ": cannot list the folder: ", ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& [rel, file] : files) {
      h = Fnv1a(rel, h);
      h = Fnv1a(std::string_view("\0", 1), h);
      h = Fnv1a(std::to_string(fs::file_size(file, ec)), h);
      h = Fnv1a(std::string_view("\0", 1), h);
      GF_RETURN_IF_ERROR(HashFile(file.string(), &h));
    }
  } else {
    GF_RETURN_IF_ERROR(HashFile(path, &h));
  }
  return absl::StrFormat("fnv1a64:%016x", h);
}

absl::StatusOr<GpuProfile::FittedSet> FittedSetOf(const std::string& path) {
  GF_ASSIGN_OR_RETURN(std::string digest, MeasurementSetDigest(path));
  return GpuProfile::FittedSet{digest, path};
}

bool FittedOn(const GpuProfile& profile, const std::string& path) {
  if (!profile.fitted_on.empty()) {
    const absl::StatusOr<std::string> digest = MeasurementSetDigest(path);
    for (const auto& f : profile.fitted_on)
      if (digest.ok() && f.digest == *digest) return true;
  }
  // Sources without a digest (every source of a profile written before digests): the old rule by path, which
  // cannot tell a new set in a folder named like the training one from it. Kept for those profiles only.
  for (const auto& s : profile.sources) {
    const bool has_digest = std::any_of(profile.fitted_on.begin(), profile.fitted_on.end(),
                                        [&](const GpuProfile::FittedSet& f) { return f.what == SourcePath(s); });
    if (!has_digest && SameMeasurementSet(s, path)) return true;
  }
  return false;
}

absl::StatusOr<GpuProfile> CalibrateFromVidur(const VidurCalibrationInput& input, const GpuSpec& gpu,
                                              const GpuProfile& start) {
  GF_ASSIGN_OR_RETURN(VidurComputeSet set, ReadVidurComputeDir(input.compute_dir));
  GF_RETURN_IF_ERROR(CheckEnoughPoints(input.compute_dir, set.gemms.size(), GemmParameters(set.gemms),
                                       "GEMM measurements", "the GEMM model"));
  for (const std::string& kind : StreamKinds()) {
    const size_t n = static_cast<size_t>(std::count_if(set.elementwise.begin(), set.elementwise.end(),
                                                       [&](const ElementwiseSample& s) { return StreamKindOf(s.op) == kind; }));
    if (n == 0) continue;  // not measured: the kind keeps its starting parameters
    GF_RETURN_IF_ERROR(CheckEnoughPoints(input.compute_dir, n, kStreamParameters, "'" + kind + "' kernel measurements",
                                         "the " + kind + " stream model"));
  }
  // The collectives are read and checked before any fit too, so a bad file fails at once.
  std::vector<CollectiveSample> ar;
  if (!input.network_file.empty()) {
    GF_ASSIGN_OR_RETURN(std::vector<CollectiveSample> net, ReadVidurNetwork(input.network_file));
    ar = IntraNodeAllReduces(net);
    if (ar.empty()) return absl::InvalidArgumentError(absl::StrCat(input.network_file, ": no intra-node all_reduce rows"));
    GF_RETURN_IF_ERROR(CheckEnoughPoints(input.network_file, ar.size(), kAllReduceParameters,
                                         "intra-node all_reduce rows", "the all-reduce model"));
  }
  GpuProfile p = start;
  p.gpu = gpu.name;
  p.status = "calibrated";
  p.derived_from.clear();
  DropBorrowedFramework(p);
  p.created = Today();
  p.sources = {absl::StrCat(input.compute_dir, " (vidur kernel times: ", set.gemms.size(), " GEMMs, ",
                            set.elementwise.size(), " memory-bound kernels)")};
  GF_ASSIGN_OR_RETURN(GpuProfile::FittedSet compute_set, FittedSetOf(input.compute_dir));
  p.fitted_on = {compute_set};
  p.gemm = FitGemm(set.gemms, gpu, start.gemm);
  const GemmCv cv = GemmApeCv(set.gemms, gpu, start.gemm, input.shape_corrections);
  p.gemm_shapes.clear();
  p.fit.erase("gemm_equation");
  p.fit.erase("gemm_shapes");
  if (input.shape_corrections) {
    p.gemm_shapes = BuildGemmShapeCorrections(set.gemms, gpu, p.gemm);
    p.fit["gemm"] = SummarizeErrors(cv.with_shapes, "leave-one-model-out, with the other models' measured shapes");
    p.fit["gemm_equation"] = SummarizeErrors(cv.equation, "leave-one-model-out, equation alone");
    p.fit["gemm_shapes"] = SummarizeErrors(ShapeInterpolationApe(set.gemms, gpu, start.gemm),
                                           kShapeInterpolationMethod);
  } else {
    p.fit["gemm"] = SummarizeErrors(cv.equation, "leave-one-model-out");
  }
  p.stream = FitStreams(set.elementwise, gpu, start.stream);
  p.fit["elementwise"] = SummarizeErrors(StreamApeCv(set.elementwise, gpu, start.stream), "leave-one-model-out");
  // Attention kernels are not in these measurements: prefill runs at the GEMMs' compute efficiency and
  // decode streams the KV cache at their memory efficiency, until end-to-end data refines them.
  p.attention.prefill_efficiency = p.gemm.compute_efficiency;
  p.attention.decode_memory_efficiency = p.gemm.memory_efficiency;
  p.attention.launch_s = p.stream.at("norm").launch_s;
  if (!input.network_file.empty()) {
    const double link = input.network_node->intra_gbps;
    p.allreduce = FitAllReduce(ar, gpu, link, start.allreduce);
    const std::vector<double> ape = CrossValidatedApe<CollectiveSample>(
        ar, [](const CollectiveSample& s) { return std::to_string(s.ranks); },
        [&](const std::vector<CollectiveSample>& train, const std::vector<CollectiveSample>& test) {
          const AllReduceParams fitted = FitAllReduce(train, gpu, link, start.allreduce);
          std::vector<double> out;
          for (const auto& s : test) out.push_back(PredictAllReduce(fitted, gpu, link, s));
          return out;
        },
        [](const CollectiveSample& s) { return s.time_s; }, kAllReduceParameters);
    p.fit["allreduce"] = SummarizeErrors(ape, "leave-one-rank-count-out");
    p.sources.push_back(absl::StrCat(input.network_file, " (NCCL all_reduce on ", input.network_node->name, ", ",
                                     ar.size(), " intra-node rows)"));
    GF_ASSIGN_OR_RETURN(GpuProfile::FittedSet network_set, FittedSetOf(input.network_file));
    p.fitted_on.push_back(network_set);
  }
  return p;
}

absl::StatusOr<SplitwiseHardware> ResolveSplitwiseHardware(const std::string& name, const Catalog& catalog) {
  SplitwiseHardware hw;
  // "<hardware>-pcap": Splitwise's model of that GPU under a power cap (its prefill times x 1.3), not a
  // measurement of its own; reported apart from the measured hardware.
  constexpr absl::string_view kPowerCap = "-pcap";
  absl::string_view gpu_name = name;
  if (absl::ConsumeSuffix(&gpu_name, kPowerCap)) hw.headline = false;
  GF_ASSIGN_OR_RETURN(hw.gpu, MapGpuName(gpu_name, catalog, absl::StrCat("Splitwise hardware '", name, "'")));
  hw.node = ReferenceNode(*hw.gpu, catalog);
  if (hw.node == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("Splitwise hardware '", name, "' is the catalog GPU ", hw.gpu->name,
                                                   ", which no catalog node holds; expected a node of it in ",
                                                   "models/catalog/nodes.yaml"));
  }
  return hw;
}

EndToEndPrediction PredictEndToEnd(const EndToEndSample& s, const GpuProfile& profile, const SplitwiseHardware& hw,
                                   const LlmSpec& llm) {
  return PredictEndToEnd(s, CalibratedPerfModel(profile, ReplicaHardware{&llm, hw.gpu, hw.node, s.tensor_parallel}));
}

EndToEndPrediction PredictEndToEnd(const EndToEndSample& s, const CalibratedPerfModel& model) {
  std::vector<SeqWork> prefill(static_cast<size_t>(s.batch), SeqWork{static_cast<uint32_t>(s.prompt_tokens), 0});
  // A decode step's context grows from the prompt to prompt + output: its mean is half-way.
  const uint32_t context = static_cast<uint32_t>(s.prompt_tokens + s.output_tokens / 2);
  std::vector<SeqWork> decode(static_cast<size_t>(s.batch), SeqWork{1, context});
  return {model.IterationTime(prefill), model.IterationTime(decode)};
}

void DropBorrowedFramework(GpuProfile& p) {
  if (p.framework_from.empty()) return;
  p.framework = FrameworkParams{};
  p.framework_from.clear();
  std::erase_if(p.sources, [](const std::string& s) { return s.starts_with(kBorrowedFrameworkSource); });
}

ScreenedRows ScreenEndToEnd(const std::vector<EndToEndSample>& rows) {
  ScreenedRows out;
  for (const EndToEndSample& a : rows) {
    const EndToEndSample* contradicted = nullptr;
    for (const EndToEndSample& b : rows) {
      const bool more_work = a.prompt_tokens >= b.prompt_tokens && a.batch >= b.batch &&
                             int64_t{a.prompt_tokens} * a.batch > int64_t{b.prompt_tokens} * b.batch;
      if (a.model == b.model && a.hardware == b.hardware && a.tensor_parallel == b.tensor_parallel && more_work &&
          a.prefill_s < 0.5 * b.prefill_s && (contradicted == nullptr || b.prefill_s > contradicted->prefill_s)) {
        contradicted = &b;
      }
    }
    if (contradicted == nullptr) {
      out.kept.push_back(a);
      continue;
    }
    out.excluded.push_back(
        {a, absl::StrFormat("%d prompts of %d tokens prefilled in %.3g s, under half the %.3g s of %d x %d tokens (row %d)",
                            a.batch, a.prompt_tokens, a.prefill_s, contradicted->prefill_s, contradicted->batch,
                            contradicted->prompt_tokens, contradicted->origin.row)});
  }
  return out;
}

namespace {

// The catalog model of a Splitwise row ("llama2-70b" -> Llama-2-70B, "bloom-176b" -> BLOOM-176B), by
// model_names.h's rule; an unknown one is an error at the row, with the closest catalog names.
absl::StatusOr<const LlmSpec*> SplitwiseModel(const EndToEndSample& s, const Catalog& catalog) {
  return MapModelName(s.model, catalog, absl::StrCat(s.origin.file, ":", s.origin.row));
}

// The one model of `rows` (a fit or a report group is of one model): an error naming the first row of a
// second model.
absl::StatusOr<const LlmSpec*> OneSplitwiseModel(const std::vector<EndToEndSample>& rows, const Catalog& catalog,
                                                 const std::string& what) {
  GF_ASSIGN_OR_RETURN(const LlmSpec* llm, SplitwiseModel(rows.front(), catalog));
  for (const EndToEndSample& s : rows) {
    GF_ASSIGN_OR_RETURN(const LlmSpec* other, SplitwiseModel(s, catalog));
    if (other != llm) {
      return absl::InvalidArgumentError(absl::StrCat(s.origin.file, ":", s.origin.row, ": model '", s.model, "' (",
                                                     other->name, ") differs from row ", rows.front().origin.row, "'s ",
                                                     llm->name, "; expected one model per ", what));
    }
  }
  return llm;
}

// Cross-validation folds for end-to-end rows: each distinct configuration (TP, prompt, batch, output
// length) is held out whole, so its repeated measurements never sit on both sides; the configurations,
// in sorted order, are dealt round-robin into kEndToEndFolds folds.
constexpr int kEndToEndFolds = 5;
constexpr const char* kEndToEndCv = "5-fold by configuration";

std::vector<int> EndToEndFolds(const std::vector<EndToEndSample>& rows) {
  std::map<std::tuple<int, int, int, int>, int> config_index;
  for (const auto& s : rows) config_index[{s.tensor_parallel, s.prompt_tokens, s.batch, s.output_tokens}] = 0;
  int i = 0;
  for (auto& [config, index] : config_index) index = i++ % kEndToEndFolds;
  std::vector<int> fold;
  for (const auto& s : rows) fold.push_back(config_index[{s.tensor_parallel, s.prompt_tokens, s.batch, s.output_tokens}]);
  return fold;
}

// `profile` without what end-to-end data determined: the serving stack's host time and throttling at
// their built-in values, attention prefill at the GEMMs' compute efficiency.
GpuProfile KernelOnly(GpuProfile profile) {
  DropBorrowedFramework(profile);
  profile.framework = FrameworkParams{};
  profile.attention.prefill_efficiency = profile.gemm.compute_efficiency;
  profile.fit.erase("splitwise_prefill");
  profile.fit.erase("splitwise_decode");
  return profile;
}

// Cauchy loss on a log error: quadratic for small errors, logarithmic for large ones, so the few
// configurations that contradict their neighbours without failing the screen (Splitwise's A100 TP8
// 16 x 512-token prefill is a third slower than one 8,192-token prompt) cannot drag every other
// prediction toward them.
double RobustLoss(double log_error) {
  constexpr double kScale = 0.15;  // errors of ~15% and below count as in least squares
  const double r = log_error / kScale;
  return kScale * kScale * std::log1p(r * r);
}

// The ceiling of attention prefill efficiency: flash attention's matrix products do not run closer to
// the tensor-core peak than the GEMMs measured on the same GPU.
double AttentionCeiling(const GpuProfile& p) { return std::max(0.06, p.gemm.compute_efficiency); }

// Parameters the end-to-end data determines (10): the serving stack's host times per iteration, sequence
// and TP rank, the eager prefill launch time and its overlap with GPU work, the sustained-load slowdown
// (own and per peer, onset and sharpness), and the attention prefill efficiency (flash attention is not
// in the kernel measurements). `busy_onset`: the onset is a GEMM busy time (throttle_busy_s), else a
// token count (throttle_tokens, left at its default by a busy-time fit).
constexpr int kEndToEndParameters = 10;
GpuProfile WithEndToEndParams(GpuProfile p, const std::vector<double>& x, bool busy_onset) {
  p.framework.iteration_overhead_s = std::exp(x[0]);
  p.framework.per_sequence_s = std::exp(x[1]);
  p.attention.prefill_efficiency = 0.05 + (AttentionCeiling(p) - 0.05) / (1 + std::exp(-x[2]));
  p.framework.throttle_slowdown = std::exp(x[3]);
  p.framework.peer_slowdown = std::exp(x[8]);
  p.framework.throttle_tokens = busy_onset ? FrameworkParams{}.throttle_tokens : std::exp(x[6]);
  p.framework.throttle_busy_s = busy_onset ? std::exp(x[6]) : 0.0;
  p.framework.throttle_sharpness = 0.25 + 7.75 / (1 + std::exp(-x[7]));
  p.framework.per_rank_s = std::exp(x[4]);
  p.framework.prefill_launch_per_layer_s = std::exp(x[5]);
  p.framework.launch_overlap = 1.0 + 63.0 / (1 + std::exp(-x[9]));
  return p;
}

// The end-to-end fit with the sustained-load onset on one clock (tokens or GEMM busy time); its loss.
std::pair<GpuProfile, double> FitEndToEndOnset(const std::vector<EndToEndSample>& rows, const GpuProfile& base,
                                               const SplitwiseHardware& hw, const LlmSpec& llm, bool busy_onset) {
  auto loss = [&](const std::vector<double>& x) {
    const GpuProfile p = WithEndToEndParams(base, x, busy_onset);
    // One model per TP degree for the whole pass: building one copies the profile.
    std::map<int, CalibratedPerfModel> models;
    double sum = 0;
    for (const auto& s : rows) {
      auto it = models.find(s.tensor_parallel);
      if (it == models.end()) {
        it = models.emplace(s.tensor_parallel, CalibratedPerfModel(p, ReplicaHardware{&llm, hw.gpu, hw.node, s.tensor_parallel})).first;
      }
      const EndToEndPrediction e = PredictEndToEnd(s, it->second);
      const double a = std::log(e.prefill_s / s.prefill_s), b = std::log(e.decode_iteration_s / s.decode_iteration_s);
      sum += RobustLoss(a) + RobustLoss(b);
    }
    return sum / static_cast<double>(2 * rows.size());
  };
  auto logit = [](double v, double lo, double hi) {
    const double u = std::clamp((v - lo) / (hi - lo), 1e-6, 1 - 1e-6);
    return std::log(u / (1 - u));
  };
  MinimizeOptions options;
  options.max_evaluations = 4000;
  // The loss has separate basins (slow attention vs. slowed compute explain long prompts alike, host
  // time per rank vs. launch time explain short prefills alike): start with large iterations' compute at
  // 100%, 60% and 35% of the microbenchmarked speed, each with and without a launch-bound prefill; keep
  // the best.
  MinimizeResult best;
  best.value = std::numeric_limits<double>::infinity();
  for (const auto& [sustained, launch_per_layer] : {std::pair{1.0, 1e-4}, std::pair{0.6, 1e-4}, std::pair{0.35, 1e-4},
                                                   std::pair{1.0, 5e-4}, std::pair{0.6, 5e-4}, std::pair{0.35, 5e-4}}) {
    const std::vector<double> x0 = {std::log(std::max(base.framework.iteration_overhead_s, 1e-4)),
                                    std::log(std::max(base.framework.per_sequence_s, 1e-6)),
                                    logit(base.attention.prefill_efficiency, 0.05, AttentionCeiling(base)),
                                    std::log(1.0 / sustained - 1.0 + 1e-3),
                                    std::log(std::max(base.framework.per_rank_s, 1e-5)),
                                    std::log(std::max(base.framework.prefill_launch_per_layer_s, launch_per_layer)),
                                    std::log(busy_onset ? 0.02 : 2048.0), logit(1.0, 0.25, 8.0), std::log(0.05), logit(4.0, 1.0, 64.0)};
    MinimizeResult r = NelderMead(loss, x0, options);
    if (r.value < best.value) best = r;
  }
  return {WithEndToEndParams(base, best.x, busy_onset), best.value};
}

// Each row predicted by an end-to-end fit (from `kernel_only`, with the throttle onset in GEMM busy time
// or in tokens) that held its fold out; calls `visit(row, prediction)` for every row.
void CrossValidateEndToEnd(const std::vector<EndToEndSample>& rows, const GpuProfile& kernel_only,
                           const SplitwiseHardware& hw, const LlmSpec& llm, bool busy_onset,
                           const std::function<void(const EndToEndSample&, const EndToEndPrediction&)>& visit) {
  const std::vector<int> fold = EndToEndFolds(rows);
  // The folds' fits are independent (each from the same kernel-only start): run them side by side, then
  // visit the predictions in fold order, so the result is the same as one after the other.
  std::vector<std::vector<EndToEndSample>> tests(kEndToEndFolds);
  std::vector<std::vector<EndToEndPrediction>> predictions(kEndToEndFolds);
  std::vector<std::exception_ptr> failures(kEndToEndFolds);
  {
    std::vector<std::jthread> workers;  // joined when the block ends, also if one fails to start
    for (int held = 0; held < kEndToEndFolds; ++held) {
      std::vector<EndToEndSample> train;
      for (size_t i = 0; i < rows.size(); ++i) (fold[i] == held ? tests[held] : train).push_back(rows[i]);
      // Each row is two points (prefill, decode): fewer than the parameters fit nothing.
      if (2 * train.size() < static_cast<size_t>(kEndToEndParameters) || tests[held].empty()) continue;
      workers.emplace_back([&, held, train = std::move(train)] {
        try {
          const GpuProfile fitted = FitEndToEndOnset(train, kernel_only, hw, llm, busy_onset).first;
          for (const auto& s : tests[held]) predictions[held].push_back(PredictEndToEnd(s, fitted, hw, llm));
        } catch (...) {
          failures[held] = std::current_exception();
        }
      });
    }
  }
  for (const std::exception_ptr& f : failures)
    if (f) std::rethrow_exception(f);
  for (int held = 0; held < kEndToEndFolds; ++held) {
    for (size_t i = 0; i < predictions[held].size(); ++i) visit(tests[held][i], predictions[held][i]);
  }
}

}  // namespace

absl::StatusOr<GpuProfile> CalibrateFromSplitwise(const std::string& path, const std::string& hardware,
                                                  const GpuProfile& base, const Catalog& catalog) {
  GF_ASSIGN_OR_RETURN(std::vector<EndToEndSample> all, ReadSplitwise(path));
  GF_ASSIGN_OR_RETURN(SplitwiseHardware hw, ResolveSplitwiseHardware(hardware, catalog));
  const std::vector<EndToEndSample> rows =
      ScreenEndToEnd(Where<EndToEndSample>(all, [&](const auto& s) { return s.hardware == hardware; })).kept;
  if (rows.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no rows for hardware '", hardware, "'"));
  // Each row is two points, its prefill and its decode step.
  GF_RETURN_IF_ERROR(CheckEnoughPoints(path, 2 * rows.size(), kEndToEndParameters,
                                       absl::StrCat("points (prefill and decode of ", rows.size(), " rows of hardware '",
                                                    hardware, "' after screening)"),
                                       "the serving-stack model"));
  GF_ASSIGN_OR_RETURN(const LlmSpec* llm, OneSplitwiseModel(rows, catalog, absl::StrCat("fit (hardware '", hardware, "')")));
  // The end-to-end parameters are fitted from their kernel-only starting values, not from an earlier
  // end-to-end fit, so refitting is reproducible; an earlier Splitwise provenance entry is replaced.
  GpuProfile kernel_only = KernelOnly(base);
  std::erase_if(kernel_only.sources, [&](const std::string& s) {
    if (s.find("(Splitwise end-to-end") == std::string::npos) return false;
    std::erase_if(kernel_only.fitted_on, [&](const GpuProfile::FittedSet& f) { return f.what == SourcePath(s); });
    return true;
  });
  GF_ASSIGN_OR_RETURN(GpuProfile::FittedSet splitwise_set, FittedSetOf(path));
  // Whether the sustained-load slowdown sets in after so long a stretch of tensor-core work (what a power
  // limit integrates; it separates TP degrees, whose ranks hold the same tokens for different times) or
  // after so many tokens is the data's to say: both are cross-validated and the one with the lower mean
  // error over both phases is fitted to all rows (the H100 rows take busy time; the A100's, which
  // contradict each other at TP8, tokens). Ties keep tokens, the older form.
  std::vector<double> prefill_ape, decode_ape;
  bool busy_onset = false;
  double best_error = std::numeric_limits<double>::infinity();
  for (const bool busy : {false, true}) {
    std::vector<double> prefill, decode;
    CrossValidateEndToEnd(rows, kernel_only, hw, *llm, busy, [&](const EndToEndSample& s, const EndToEndPrediction& e) {
      prefill.push_back(std::fabs(e.prefill_s / s.prefill_s - 1));
      decode.push_back(std::fabs(e.decode_iteration_s / s.decode_iteration_s - 1));
    });
    double error = 0;
    for (double a : prefill) error += a;
    for (double a : decode) error += a;
    if (error < best_error) {
      best_error = error;
      busy_onset = busy;
      prefill_ape = std::move(prefill);
      decode_ape = std::move(decode);
    }
  }
  GpuProfile p = FitEndToEndOnset(rows, kernel_only, hw, *llm, busy_onset).first;
  p.fit["splitwise_prefill"] = SummarizeErrors(prefill_ape, kEndToEndCv);
  p.fit["splitwise_decode"] = SummarizeErrors(decode_ape, kEndToEndCv);
  p.created = Today();
  p.sources.push_back(absl::StrCat(path, " (Splitwise end-to-end, hardware ", hardware, ", ", rows.size(), " rows)"));
  p.fitted_on.push_back(splitwise_set);
  return p;
}

void Summarize(ValidationReport& report, const std::string& cv_method,
               const std::function<bool(const std::string&)>& headline) {
  const std::string own_method = report.in_sample ? "in-sample" : "held-out";
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_group;  // own, cross-validated
  std::vector<double> all_own, all_cv;
  for (const ValidationPoint& p : report.points) {
    auto& [own, cv] = by_group[p.group];
    own.push_back(std::fabs(p.predicted_s / p.measured_s - 1));
    if (std::isfinite(p.cross_validated_s)) cv.push_back(std::fabs(p.cross_validated_s / p.measured_s - 1));
  }
  for (const auto& [name, ape] : by_group) {
    ValidationGroup g;
    g.name = name;
    g.headline = headline(name);
    g.profile = SummarizeErrors(ape.first, own_method);
    g.cross_validated = SummarizeErrors(ape.second, cv_method);
    if (g.headline) {
      all_own.insert(all_own.end(), ape.first.begin(), ape.first.end());
      all_cv.insert(all_cv.end(), ape.second.begin(), ape.second.end());
    }
    report.groups.push_back(g);
  }
  report.overall_profile = SummarizeErrors(all_own, own_method);
  report.overall_cross_validated = SummarizeErrors(all_cv, cv_method);
}

ValidationPoint PointOf(const SampleOrigin& origin, std::string group, std::string config, double measured_s,
                        double predicted_s) {
  return {origin.file, origin.row, std::move(group), std::move(config), measured_s, predicted_s,
          std::numeric_limits<double>::quiet_NaN()};
}

absl::StatusOr<ValidationReport> ValidateVidur(const std::string& compute_dir, const GpuProfile& profile,
                                               const GpuSpec& gpu) {
  GF_ASSIGN_OR_RETURN(VidurComputeSet set, ReadVidurComputeDir(compute_dir));
  ValidationReport report;
  report.source = compute_dir;
  report.in_sample = FittedOn(profile, compute_dir);
  // Points: the GEMMs, then the memory-bound kernels, in file order.
  const OperatorModel model(profile, gpu, 0);
  for (const auto& s : set.gemms) {
    report.points.push_back(PointOf(s.origin, s.op,
                                    absl::StrFormat("model=%s tp=%d m=%d n=%d k=%d", s.origin.model,
                                                    s.tensor_parallel, s.m, s.n, s.k),
                                    s.time_s, PredictGemm(model, s)));
  }
  for (const auto& s : set.elementwise) {
    report.points.push_back(PointOf(s.origin, s.op,
                                    absl::StrFormat("model=%s tp=%d tokens=%d bytes=%.0f", s.origin.model,
                                                    s.tensor_parallel, s.tokens, s.bytes),
                                    s.time_s, PredictStream(profile.stream, gpu, s)));
  }
  // Leave one model out: refit without it, predict its points. A profile with measured GEMM shapes is
  // refitted with them too (from the other models' measurements); the equation's own figure goes into
  // the notes, since a model whose shapes nobody measured gets that one.
  const bool shapes = !profile.gemm_shapes.empty();
  std::vector<double> equation_ape;
  int64_t shared_shapes = 0;
  std::set<std::string> models;
  for (const auto& s : set.gemms) models.insert(s.origin.model);
  for (const std::string& held : models) {
    std::vector<GemmSample> train_g;
    std::vector<ElementwiseSample> train_e;
    for (const auto& s : set.gemms)
      if (s.origin.model != held) train_g.push_back(s);
    for (const auto& s : set.elementwise)
      if (s.origin.model != held) train_e.push_back(s);
    if (train_g.size() < static_cast<size_t>(GemmParameters(train_g))) continue;  // too few to refit
    // From the built-in starting values, as `calibrate` fits: starting from the profile would carry the
    // held-out model's data in through the start point (parameters fitted onto a bound stay there).
    const GpuProfile defaults;
    const GpuProfile fitted = FitGemmProfile(train_g, gpu, defaults.gemm, shapes);
    const OperatorModel fold_model(fitted, gpu, 0);
    const auto e = FitStreams(train_e, gpu, defaults.stream);
    for (size_t i = 0; i < set.gemms.size(); ++i) {
      const GemmSample& s = set.gemms[i];
      if (s.origin.model != held) continue;
      report.points[i].cross_validated_s = PredictGemm(fold_model, s);
      if (!shapes) continue;
      equation_ape.push_back(std::fabs(PredictGemm(fitted.gemm, gpu, s) / s.time_s - 1));
      shared_shapes += GemmShapeFactor(fitted.gemm_shapes, 1, static_cast<double>(s.n), static_cast<double>(s.k)) ? 1 : 0;
    }
    for (size_t i = 0; i < set.elementwise.size(); ++i) {
      if (set.elementwise[i].origin.model == held) {
        const double t = PredictStream(e, gpu, set.elementwise[i]);
        report.points[set.gemms.size() + i].cross_validated_s = t;
        if (shapes) equation_ape.push_back(std::fabs(t / set.elementwise[i].time_s - 1));
      }
    }
  }
  Summarize(report, "leave-one-model-out", [](const std::string&) { return true; });
  if (models.size() < 2) report.notes.push_back("one model only: no cross-validation possible");
  if (shapes && !equation_ape.empty()) {
    const FitError eq = SummarizeErrors(equation_ape, "");
    report.notes.push_back(absl::StrFormat(
        "the profile has measured GEMM shapes: each held-out model's refit keeps the other models' (%d of the %d "
        "held-out GEMMs have a shape another model shares); for a model whose shapes were never measured the "
        "equations alone apply: cross-validated overall median %.1f%%, mean %.1f%%, p90 %.1f%%",
        shared_shapes, set.gemms.size(), 100 * eq.median_ape, 100 * eq.mape, 100 * eq.p90_ape));
  }
  return report;
}

absl::StatusOr<ValidationReport> ValidateSplitwise(const std::string& path,
                                                   const std::map<std::string, GpuProfile>& profiles,
                                                   const Catalog& catalog) {
  GF_ASSIGN_OR_RETURN(std::vector<EndToEndSample> all, ReadSplitwise(path));
  ValidationReport report;
  report.source = path;
  // Groups: (hardware, TP, phase), and the model when the file holds several; every kept row gives a
  // prefill and a decode point.
  std::set<std::string> hardware, models, not_headline;
  for (const auto& s : all) {
    hardware.insert(s.hardware);
    models.insert(s.model);
  }
  for (const std::string& name : hardware) {
    GF_ASSIGN_OR_RETURN(SplitwiseHardware hw, ResolveSplitwiseHardware(name, catalog));
    auto it = profiles.find(hw.gpu->name);
    if (it == profiles.end()) return absl::NotFoundError(absl::StrCat("no profile for ", hw.gpu->name));
    const GpuProfile& profile = it->second;
    // Cross-validation refits the end-to-end parameters from their kernel-only starting values, so the
    // held-out rows leak nothing through the starting point.
    const GpuProfile kernel_only = KernelOnly(profile);
    if (FittedOn(profile, path)) report.in_sample = true;
    for (const std::string& model : models) {
      ScreenedRows screened = ScreenEndToEnd(
          Where<EndToEndSample>(all, [&](const auto& s) { return s.hardware == name && s.model == model; }));
      report.excluded.insert(report.excluded.end(), screened.excluded.begin(), screened.excluded.end());
      const std::vector<EndToEndSample>& rows = screened.kept;
      if (rows.empty()) continue;
      GF_ASSIGN_OR_RETURN(const LlmSpec* llm, SplitwiseModel(rows.front(), catalog));
      auto group = [&](const EndToEndSample& s, const char* phase) {
        const std::string g = models.size() > 1 ? absl::StrFormat("%s %s tp%d %s", name, llm->name, s.tensor_parallel, phase)
                                                : absl::StrFormat("%s tp%d %s", name, s.tensor_parallel, phase);
        if (!hw.headline) not_headline.insert(g);
        return g;
      };
      std::map<int64_t, size_t> point_of_row;  // file row -> its prefill point (decode follows)
      for (const auto& s : rows) {
        const EndToEndPrediction e = PredictEndToEnd(s, profile, hw, *llm);
        const std::string config = absl::StrFormat("prompt=%d batch=%d output=%d", s.prompt_tokens, s.batch, s.output_tokens);
        point_of_row[s.origin.row] = report.points.size();
        report.points.push_back(PointOf(s.origin, group(s, "prefill"), config, s.prefill_s, e.prefill_s));
        report.points.push_back(PointOf(s.origin, group(s, "decode"), config, s.decode_iteration_s, e.decode_iteration_s));
      }
      // The folds refit the profile's form of the throttle onset (GEMM busy time or tokens).
      const bool busy_onset = profile.framework.throttle_busy_s > 0;
      CrossValidateEndToEnd(rows, kernel_only, hw, *llm, busy_onset, [&](const EndToEndSample& s, const EndToEndPrediction& e) {
        const size_t i = point_of_row.at(s.origin.row);
        report.points[i].cross_validated_s = e.prefill_s;
        report.points[i + 1].cross_validated_s = e.decode_iteration_s;
      });
    }
  }
  Summarize(report, kEndToEndCv, [&](const std::string& g) { return !not_headline.contains(g); });
  if (!report.excluded.empty()) {
    report.notes.push_back(absl::StrCat(report.excluded.size(), " rows contradict rows with less work (prefill under half as long) ",
                                        "and are left out of the fits and every figure above; see `excluded`"));
  }
  if (!not_headline.empty()) {
    report.notes.push_back("h100-80gb-pcap rows are Splitwise's model of a power-capped H100 (prefill x 1.3), "
                           "reported separately and left out of the overall figures");
  }
  return report;
}

}  // namespace gpufleet
