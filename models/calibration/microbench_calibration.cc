// Calibration from, and validation against, the project's own CUDA microbenchmark CSV (tools/microbench,
// docs/microbench-csv.md).
//
// GEMM rows fit the GEMM parameters (evaluated 10-fold by weight shape: each (n, k) predicted by a fit
// that never saw it) and, unless turned off, become measured-shape corrections (evaluated on every
// other token count held out); HBM copy and triad fit the memory-bound kernels' floor and bandwidth (the same
// for every kind: the suite measures pure streaming, not each fused kernel), leaving out rows whose working
// set fits in L2 (they measure the cache); attention rows of the library kernel (cudnn_sdpa) fit the
// attention parameters, the suite's own CUDA-core reference kernels only when asked (they are ~10x slower
// than the flash-attention kernels serving stacks run); intra-node all_reduce rows fit the collective. Only rows at the highest power
// limit in the file are used, so a power-limit sweep does not bias the base profile.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/csv_table.h"
#include "models/calibration/fit.h"
#include "models/calibration/gemm_shapes.h"
#include "models/calibration/nelder_mead.h"
#include "models/calibration/operator_model.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/cache_rotation.h"
#include "tools/microbench/microbench_csv.h"

namespace gpufleet {
namespace {

using microbench::MicrobenchRow;
using microbench::Op;

struct AttentionSample {
  SampleOrigin origin;
  bool prefill = false;
  double flops = 0, kv_bytes = 0, time_s = 0;
};

constexpr int kAttentionParameters = 3;  // launch, prefill efficiency, decode memory efficiency
AttentionParams FitAttention(const std::vector<AttentionSample>& rows, const GpuProfile& base, const GpuSpec& gpu) {
  auto from_x = [&](const std::vector<double>& x) {
    AttentionParams a;
    a.launch_s = std::exp(x[0]);
    a.prefill_efficiency = 0.01 + 0.99 / (1 + std::exp(-x[1]));
    a.decode_memory_efficiency = 0.01 + 1.19 / (1 + std::exp(-x[2]));
    return a;
  };
  auto predict = [&](const AttentionParams& a, const AttentionSample& s) {
    GpuProfile p = base;
    p.attention = a;
    const OperatorModel ops(p, gpu, 0);
    return s.prefill ? ops.AttentionPrefill(s.flops, s.kv_bytes) : ops.AttentionDecode(s.kv_bytes);
  };
  auto loss = [&](const std::vector<double>& x) {
    const AttentionParams a = from_x(x);
    double sum = 0;
    for (const auto& s : rows) {
      const double e = std::log(predict(a, s) / s.time_s);
      sum += e * e;
    }
    return sum / static_cast<double>(rows.size());
  };
  return from_x(NelderMead(loss, {std::log(1e-5), 0.0, 0.0}).x);
}

// The rows of a microbenchmark file at its highest power limit (a power-limit sweep must not bias the
// base profile), as samples with their file lines.
struct MicrobenchSamples {
  double top_limit = 0;
  std::string gpu_name, driver_version, cuda_version;
  std::vector<GemmSample> gemms;  // fp16/bf16
  std::vector<ElementwiseSample> streams;  // hbm_copy, hbm_triad
  std::vector<AttentionSample> attention;
  std::vector<CollectiveSample> allreduce;
  // Rows left out, by reason.
  int64_t other_limits = 0, fp8_gemms = 0, reference_attention = 0, hbm_in_l2 = 0, other_collectives = 0;
  size_t used() const { return gemms.size() + streams.size() + attention.size() + allreduce.size(); }
};

absl::StatusOr<MicrobenchSamples> ReadSamples(const std::string& path, bool reference_attention) {
  std::vector<int64_t> lines;
  GF_ASSIGN_OR_RETURN(std::vector<MicrobenchRow> all, microbench::ReadMicrobenchCsv(path, &lines));
  if (all.empty()) return NoMeasurementRows(path);
  MicrobenchSamples out;
  out.gpu_name = all.front().gpu_name;
  out.driver_version = all.front().driver_version;
  out.cuda_version = all.front().cuda_version;
  for (const auto& r : all) out.top_limit = std::max(out.top_limit, r.power_limit_w);
  for (size_t i = 0; i < all.size(); ++i) {
    const MicrobenchRow& r = all[i];
    if (r.power_limit_w != out.top_limit) {
      ++out.other_limits;
      continue;
    }
    SampleOrigin origin;
    origin.file = path;
    origin.row = lines[i];
    const double t = r.time_us_median * 1e-6;
    if (r.op == Op::kGemm && (r.dtype == microbench::Dtype::kFp16 || r.dtype == microbench::Dtype::kBf16)) {
      GemmSample g;
      g.origin = origin;
      g.origin.model = absl::StrCat(r.n, "x", r.k);  // the cross-validation fold: the weight shape
      g.m = r.m, g.n = r.n, g.k = r.k, g.time_s = t;
      out.gemms.push_back(g);
    } else if (r.op == Op::kGemm) {
      ++out.fp8_gemms;
    } else if ((r.op == Op::kHbmCopy || r.op == Op::kHbmTriad) && microbench::ServedFromL2(r.working_set_bytes, r.l2_bytes)) {
      ++out.hbm_in_l2;
    } else if (r.op == Op::kHbmCopy || r.op == Op::kHbmTriad) {
      ElementwiseSample e;
      e.origin = origin;
      e.op = microbench::OpName(r.op);
      e.bytes = static_cast<double>(r.bytes);
      e.time_s = t;
      out.streams.push_back(e);
    } else if (microbench::IsAttention(r.op) && (r.kernel == microbench::Kernel::kReference) != reference_attention) {
      ++out.reference_attention;  // the kernel not asked for (named for the default: reference rows left out)
    } else if (r.op == Op::kAttnPrefill || r.op == Op::kAttnDecode) {
      const double b = r.batch, q = r.q_tokens, c = r.kv_tokens, d = r.head_dim;
      AttentionSample a;
      a.origin = origin;
      a.origin.model = absl::StrFormat("batch=%d q=%d kv=%d heads=%d/%d d=%d", r.batch, r.q_tokens, r.kv_tokens,
                                       r.heads, r.kv_heads, r.head_dim);
      a.prefill = r.op == Op::kAttnPrefill;
      a.flops = a.prefill ? 4.0 * d * r.heads * b * (q * c + q * (q + 1) / 2) : 0;
      a.kv_bytes = b * (c + (a.prefill ? q : 1)) * 2.0 * r.kv_heads * d * 2;
      a.time_s = t;
      out.attention.push_back(a);
    } else if (r.op == Op::kAllReduce && r.ranks >= 2) {
      CollectiveSample c;
      c.origin = origin;
      c.collective = "all_reduce";
      c.ranks = static_cast<int>(r.ranks);
      c.devices_per_node = static_cast<int>(r.ranks);
      c.bytes = static_cast<double>(r.bytes);
      c.time_s = t;
      out.allreduce.push_back(c);
    } else if (microbench::IsCollective(r.op)) {
      ++out.other_collectives;
    }
  }
  return out;
}

// "; left out: ..." listing the rows not used and why (empty when none).
std::string LeftOut(const MicrobenchSamples& set, bool attention_from_reference) {
  std::vector<std::string> parts;
  if (set.other_limits > 0) parts.push_back(absl::StrFormat("%d at lower power limits", set.other_limits));
  if (set.fp8_gemms > 0) parts.push_back(absl::StrFormat("%d fp8 GEMMs", set.fp8_gemms));
  if (set.reference_attention > 0) {
    parts.push_back(absl::StrFormat(attention_from_reference ? "%d cudnn_sdpa attention (--attention-from-reference)"
                                                             : "%d reference-kernel attention (opt in with "
                                                               "--attention-from-reference)",
                                    set.reference_attention));
  }
  if (set.hbm_in_l2 > 0) parts.push_back(absl::StrFormat("%d HBM rows served from L2", set.hbm_in_l2));
  if (set.other_collectives > 0) {
    parts.push_back(absl::StrFormat("%d all_gather/reduce_scatter/send_recv (no model yet)", set.other_collectives));
  }
  if (parts.empty()) return "";
  std::string out = "; left out: ";
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&out, i ? ", " : "", parts[i]);
  return out;
}

// Cross-validation folds for microbenchmark GEMMs: the weight shapes, sorted, dealt round-robin into
// kShapeFolds folds, so every shape is predicted by a fit that never saw it (one fold per shape would
// refit hundreds of times on a full sweep).
constexpr int kShapeFolds = 10;
constexpr char kShapeCv[] = "10-fold by weight shape";

std::function<std::string(const GemmSample&)> ShapeFolds(const std::vector<GemmSample>& gemms) {
  std::map<std::string, int> fold;
  for (const auto& s : gemms) fold[s.origin.model] = 0;
  int i = 0;
  for (auto& [shape, f] : fold) f = i++ % kShapeFolds;
  return [fold](const GemmSample& s) { return std::to_string(fold.at(s.origin.model)); };
}

}  // namespace

absl::StatusOr<GpuProfile> CalibrateFromMicrobench(const std::string& path, const GpuSpec& gpu,
                                                   const GpuProfile& start, double link_gbps,
                                                   bool shape_corrections, bool attention_from_reference) {
  GF_ASSIGN_OR_RETURN(MicrobenchSamples set, ReadSamples(path, attention_from_reference));
  const std::vector<GemmSample>& gemms = set.gemms;
  const std::vector<ElementwiseSample>& streams = set.streams;
  const std::vector<AttentionSample>& attention = set.attention;
  const std::vector<CollectiveSample>& allreduce = set.allreduce;
  if (gemms.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no fp16/bf16 gemm rows to fit"));
  // Each model present is fitted: it needs at least as many rows as it has parameters.
  GF_RETURN_IF_ERROR(CheckEnoughPoints(path, gemms.size(), GemmParameters(gemms), "fp16/bf16 gemm rows", "the GEMM model"));
  // Too few HBM rows beyond L2 (a quick sweep's, after the L2-resident ones are left out) keep the starting
  // profile's memory-bound kernels, said in the profile's sources, rather than failing the whole fit.
  const bool fit_streams = streams.size() >= static_cast<size_t>(kStreamParameters);
  if (!attention.empty()) {
    GF_RETURN_IF_ERROR(CheckEnoughPoints(path, attention.size(), kAttentionParameters, "attention rows",
                                         "the attention model"));
  }
  if (!allreduce.empty()) {
    GF_RETURN_IF_ERROR(CheckEnoughPoints(path, allreduce.size(), kAllReduceParameters, "all_reduce rows",
                                         "the all-reduce model"));
  }

  GpuProfile p = start;
  p.gpu = gpu.name;
  p.status = "calibrated";
  p.derived_from.clear();
  DropBorrowedFramework(p);
  p.fit.clear();
  p.sources = {absl::StrFormat("%s (gpufleet-microbench on %s, driver %s, CUDA %s; %d rows at %g W%s)", path,
                               set.gpu_name, set.driver_version, set.cuda_version, set.used(), set.top_limit,
                               LeftOut(set, attention_from_reference))};
  if (!streams.empty() && !fit_streams) {
    p.sources.push_back(absl::StrFormat(
        "memory-bound kernels kept from the starting profile: %d hbm_copy/hbm_triad rows beyond L2, %d needed to fit",
        streams.size(), kStreamParameters));
  }
  GF_ASSIGN_OR_RETURN(GpuProfile::FittedSet measured, FittedSetOf(path));
  p.fitted_on = {measured};
  p.gemm = FitGemm(gemms, gpu, start.gemm);
  p.fit["gemm"] = SummarizeErrors(
      CrossValidatedApe<GemmSample>(
          gemms, ShapeFolds(gemms),
          [&](const std::vector<GemmSample>& train, const std::vector<GemmSample>& test) {
            const GemmParams fitted = FitGemm(train, gpu, start.gemm);
            std::vector<double> out;
            for (const auto& s : test) out.push_back(PredictGemm(fitted, gpu, s));
            return out;
          },
          [](const GemmSample& s) { return s.time_s; }, static_cast<size_t>(GemmParameters(gemms))),
      kShapeCv);
  // Every GEMM the suite measured is a shape of a catalog model: keep what the library does at each.
  p.gemm_shapes.clear();
  if (shape_corrections) {
    p.gemm_shapes = BuildGemmShapeCorrections(gemms, gpu, p.gemm);
    p.fit["gemm_shapes"] = SummarizeErrors(ShapeInterpolationApe(gemms, gpu, start.gemm), kShapeInterpolationMethod);
  }
  if (fit_streams) {
    // Copy kernels have no rows: they set each kind's launch floor, bandwidth and cache speedup, and
    // leave the wave parameters (not seen by this data) as they were.
    const StreamParams hbm = FitStream(streams, gpu, start.stream.at("norm"));
    for (const std::string& kind : StreamKinds()) {
      StreamParams& k = p.stream[kind];
      k.launch_s = hbm.launch_s;
      k.memory_efficiency = hbm.memory_efficiency;
      k.cache_speedup = hbm.cache_speedup;
    }
  }
  if (!attention.empty()) p.attention = FitAttention(attention, p, gpu);
  if (!allreduce.empty()) p.allreduce = FitAllReduce(allreduce, gpu, link_gbps, start.allreduce);
  return p;
}

absl::StatusOr<ValidationReport> ValidateMicrobench(const std::string& path, const GpuProfile& profile,
                                                    const GpuSpec& gpu, double link_gbps,
                                                    bool attention_from_reference) {
  GF_ASSIGN_OR_RETURN(MicrobenchSamples set, ReadSamples(path, attention_from_reference));
  ValidationReport report;
  report.source = path;
  report.in_sample = FittedOn(profile, path);
  const OperatorModel model(profile, gpu, link_gbps);
  for (const auto& s : set.gemms) {
    report.points.push_back(PointOf(s.origin, "gemm", absl::StrFormat("m=%d n=%d k=%d", s.m, s.n, s.k), s.time_s,
                                    PredictGemm(model, s)));
  }
  for (const auto& a : set.attention) {
    report.points.push_back(PointOf(a.origin, a.prefill ? "attn_prefill" : "attn_decode", a.origin.model, a.time_s,
                                    a.prefill ? model.AttentionPrefill(a.flops, a.kv_bytes)
                                              : model.AttentionDecode(a.kv_bytes)));
  }
  for (const auto& e : set.streams) {
    report.points.push_back(PointOf(e.origin, e.op, absl::StrFormat("bytes=%.0f", e.bytes), e.time_s,
                                    model.Stream("residual_add", 0, e.bytes)));
  }
  for (const auto& c : set.allreduce) {
    report.points.push_back(PointOf(c.origin, "all_reduce", absl::StrFormat("ranks=%d bytes=%.0f", c.ranks, c.bytes),
                                    c.time_s, model.AllReduce(c.bytes, c.ranks)));
  }
  // GEMMs refitted without each fold of shapes (from the built-in start, as calibrate fits), with the
  // measured shapes of the other folds when the profile keeps them: a held-out shape gets the equations.
  const auto fold_of = ShapeFolds(set.gemms);
  std::set<std::string> folds;
  for (const auto& s : set.gemms) folds.insert(fold_of(s));
  for (const std::string& held : folds) {
    std::vector<GemmSample> train;
    for (const auto& s : set.gemms)
      if (fold_of(s) != held) train.push_back(s);
    if (train.size() < static_cast<size_t>(GemmParameters(train))) continue;  // too few to refit
    const OperatorModel fold_model(FitGemmProfile(train, gpu, GemmParams{}, !profile.gemm_shapes.empty()), gpu,
                                   link_gbps);
    for (size_t i = 0; i < set.gemms.size(); ++i) {
      if (fold_of(set.gemms[i]) == held) report.points[i].cross_validated_s = PredictGemm(fold_model, set.gemms[i]);
    }
  }
  Summarize(report, std::string(kShapeCv) + ", GEMMs only", [](const std::string&) { return true; });
  report.notes.push_back(absl::StrFormat(
      "%d rows at %g W (the file's highest power limit); attention, HBM streams (predicted as the residual-add "
      "kind) and all-reduces are predicted by the profile as is, without cross-validation",
      set.used(), set.top_limit));
  if (set.other_limits > 0) {
    report.notes.push_back(absl::StrFormat("%d rows at lower power limits are not validated", set.other_limits));
  }
  if (set.fp8_gemms > 0) {
    report.notes.push_back(absl::StrFormat("%d fp8 GEMM rows are not validated (the model is fp16/bf16)", set.fp8_gemms));
  }
  if (const std::string left = LeftOut(set, attention_from_reference); !left.empty()) {
    report.notes.push_back(absl::StrCat("not validated", left));
  }
  if (!profile.calibrated()) {
    report.notes.push_back(absl::StrCat("the profile of ", profile.gpu, " is UNCALIBRATED (efficiencies of ",
                                        profile.derived_from, "): these are its errors on this GPU"));
  }
  return report;
}

}  // namespace gpufleet
