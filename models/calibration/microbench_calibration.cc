// Calibration from the project's own CUDA microbenchmark CSV (tools/microbench, docs/microbench-csv.md).
//
// GEMM rows fit the GEMM parameters (evaluated leave-one-shape-out: each (n, k) weight shape predicted by
// a fit that never saw it) and, unless turned off, become measured-shape corrections (evaluated on every
// other token count held out); HBM copy and triad fit the memory-bound kernels' floor and bandwidth (the same
// for every kind: the suite measures pure streaming, not each fused kernel); attention rows fit the
// attention parameters; intra-node all_reduce rows fit the collective. Only rows at the highest power
// limit in the file are used, so a power-limit sweep does not bias the base profile.
#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/fit.h"
#include "models/calibration/gemm_shapes.h"
#include "models/calibration/nelder_mead.h"
#include "models/calibration/operator_model.h"
#include "sim/util/status_macros.h"
#include "tools/microbench/microbench_csv.h"

namespace gpufleet {
namespace {

using microbench::MicrobenchRow;
using microbench::Op;

struct AttentionSample {
  bool prefill = false;
  double flops = 0, kv_bytes = 0, time_s = 0;
};

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

}  // namespace

absl::StatusOr<GpuProfile> CalibrateFromMicrobench(const std::string& path, const GpuSpec& gpu,
                                                   const GpuProfile& start, double link_gbps,
                                                   bool shape_corrections) {
  GF_ASSIGN_OR_RETURN(std::vector<MicrobenchRow> all, microbench::ReadMicrobenchCsv(path));
  if (all.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no measurements"));
  double top_limit = 0;
  for (const auto& r : all) top_limit = std::max(top_limit, r.power_limit_w);
  std::vector<GemmSample> gemms;
  std::vector<ElementwiseSample> streams;
  std::vector<AttentionSample> attention;
  std::vector<CollectiveSample> allreduce;
  for (const auto& r : all) {
    if (r.power_limit_w != top_limit) continue;
    const double t = r.time_us_median * 1e-6;
    if (r.op == Op::kGemm && (r.dtype == microbench::Dtype::kFp16 || r.dtype == microbench::Dtype::kBf16)) {
      GemmSample g;
      g.origin.file = path;
      g.origin.model = absl::StrCat(r.n, "x", r.k);
      g.m = r.m, g.n = r.n, g.k = r.k, g.time_s = t;
      gemms.push_back(g);
    } else if (r.op == Op::kHbmCopy || r.op == Op::kHbmTriad) {
      ElementwiseSample e;
      e.op = "hbm";
      e.bytes = static_cast<double>(r.bytes);
      e.time_s = t;
      streams.push_back(e);
    } else if (r.op == Op::kAttnPrefill || r.op == Op::kAttnDecode) {
      const double b = r.batch, q = r.q_tokens, c = r.kv_tokens, d = r.head_dim;
      AttentionSample a;
      a.prefill = r.op == Op::kAttnPrefill;
      a.flops = a.prefill ? 4.0 * d * r.heads * b * (q * c + q * (q + 1) / 2) : 0;
      a.kv_bytes = b * (c + (a.prefill ? q : 1)) * 2.0 * r.kv_heads * d * 2;
      a.time_s = t;
      attention.push_back(a);
    } else if (r.op == Op::kAllReduce && r.ranks >= 2) {
      CollectiveSample s;
      s.collective = "all_reduce";
      s.ranks = static_cast<int>(r.ranks);
      s.devices_per_node = static_cast<int>(r.ranks);
      s.bytes = static_cast<double>(r.bytes);
      s.time_s = t;
      allreduce.push_back(s);
    }
  }
  if (gemms.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no fp16/bf16 gemm rows to fit"));

  GpuProfile p = start;
  p.gpu = gpu.name;
  p.status = "calibrated";
  p.derived_from.clear();
  DropBorrowedFramework(p);
  p.fit.clear();
  p.sources = {absl::StrFormat("%s (gpufleet-microbench on %s, driver %s, CUDA %s; %d rows at %g W)", path,
                               all.front().gpu_name, all.front().driver_version, all.front().cuda_version,
                               gemms.size() + streams.size() + attention.size() + allreduce.size(), top_limit)};
  p.gemm = FitGemm(gemms, gpu, start.gemm);
  p.fit["gemm"] = SummarizeErrors(
      CrossValidatedApe<GemmSample>(
          gemms, [](const GemmSample& s) { return s.origin.model; },
          [&](const std::vector<GemmSample>& train, const std::vector<GemmSample>& test) {
            const GemmParams fitted = FitGemm(train, gpu, start.gemm);
            std::vector<double> out;
            for (const auto& s : test) out.push_back(PredictGemm(fitted, gpu, s));
            return out;
          },
          [](const GemmSample& s) { return s.time_s; }),
      "leave-one-shape-out");
  // Every GEMM the suite measured is a shape of a catalog model: keep what the library does at each.
  p.gemm_shapes.clear();
  if (shape_corrections) {
    p.gemm_shapes = BuildGemmShapeCorrections(gemms, gpu, p.gemm);
    p.fit["gemm_shapes"] = SummarizeErrors(ShapeInterpolationApe(gemms, gpu, start.gemm), kShapeInterpolationMethod);
  }
  if (!streams.empty()) {
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

}  // namespace gpufleet
