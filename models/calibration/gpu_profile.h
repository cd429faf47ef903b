// A GPU's calibration profile: the fitted parameters of the operator-level performance model, with
// their provenance and cross-validated fit error. Stored as models/calibration/<GPU>.yaml.
//
// The parameters are efficiencies and latencies, not times: multiplied with the catalog's spec-sheet
// peaks they give each kernel's compute-bound and memory-bound time, so a clock change or a GPU without
// measurements is handled by physics. A profile is `calibrated` when fitted to measurements of that GPU,
// `uncalibrated` when it borrows the efficiencies of the nearest calibrated architecture.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"

namespace gpufleet {

// GEMM: t = launch + (tc^p + tm^p)^(1/p), the smooth maximum of
//   tc = 2mnk / (peak_fp16 * compute_efficiency * factor(kind) * m/(m + m_half) * n/(n + n_half)) * S(tc)
//   tm = 2 bytes * (mk + kn + mn) / (hbm_bandwidth * memory_efficiency).
// m_half and n_half are the sizes at which tiles are half filled: small matrices waste the tensor cores.
// A working set that fits the GPU's last-level cache (catalog cache_mb) reads faster: the bandwidth is
// multiplied by 1 + cache_speedup * R(bytes), R(w) = 1 / (1 + (w / cache)^4) (1 when it fits, 0 when far
// larger), for GEMMs and memory-bound kernels alike.
// factor(kind): each transformer projection is a family of shapes (qkv: wide n over the hidden size;
// attention output: k only hidden/TP; MLP up: the widest n; MLP down: the longest k), and the BLAS
// library's kernel choice gives each family a systematically different share of peak (A100 and H100
// alike: the attention output lowest, the MLP down projection highest). The four factors have geometric
// mean 1; a GEMM of no projection (LM head, router, a microbenchmark) uses 1.
// S(tc) = 1 + sustained_slowdown * u / (1 + u), u = tc / sustained_s: a kernel that keeps the tensor cores
// busy for milliseconds meets the power limit and loses clock (an H100 at 700 W), a short one runs at
// boost clock; zero slowdown turns it off (the A100's fit does).
enum class GemmKind { kQkv, kAttnOut, kMlpUp, kMlpDown, kOther };

struct GemmParams {
  double launch_s = 8e-6;
  double compute_efficiency = 0.75;
  double m_half = 64;
  double n_half = 256;
  double memory_efficiency = 0.8;
  double smoothness = 3;  // p
  double cache_speedup = 0;
  double qkv_factor = 1, attn_out_factor = 1, mlp_up_factor = 1, mlp_down_factor = 1;
  double sustained_slowdown = 0;
  double sustained_s = 1e-3;

  double Factor(GemmKind kind) const {
    switch (kind) {
      case GemmKind::kQkv: return qkv_factor;
      case GemmKind::kAttnOut: return attn_out_factor;
      case GemmKind::kMlpUp: return mlp_up_factor;
      case GemmKind::kMlpDown: return mlp_down_factor;
      case GemmKind::kOther: break;
    }
    return 1;
  }
};

// Memory-bound kernels over `rows` tokens: t = launch + bytes * (rows' / rows) / (bw * eff * cache), where
// rows' = (rows^p + R^p)^(1/p) is the smooth maximum of the rows and one wave of them, R = wave_rows_per_sm
// * the GPU's SM count: these kernels give each SM a row (or a few) at a time, so fewer rows than a wave
// still take a wave's time, and that floor grows with the row's width (a 4096-wide RMSNorm bottoms out at
// 4 us on an H100, an 8192-wide one at 6 us). One parameter set per kind of kernel, since a norm's
// reduction, rotary's trigonometry and an embedding gather reach different shares of bandwidth.
struct StreamParams {
  double launch_s = 2e-6;
  double memory_efficiency = 0.7;
  double smoothness = 2;  // p
  double cache_speedup = 0;
  double wave_rows_per_sm = 1;
  // The share of the cache this kind's working set gets (1 = all of catalog cache_mb): the residency is
  // R(bytes / (cache * cache_fraction)). Reduction kernels keep partial results and an L2 split into
  // partitions serves each SM from its near half, so their fitted share is below 1 (A100 RMSNorm ~0.7).
  double cache_fraction = 1;
};
// The kinds, in the order profiles list them.
inline const std::vector<std::string>& StreamKinds() {
  static const std::vector<std::string> kinds = {"norm", "rope", "activation", "residual_add", "embedding"};
  return kinds;
}

// Attention. Prefill (flash attention): t = launch + max(flops / (peak * prefill_efficiency),
// kv_bytes / (bw * memory_efficiency)); decode: t = launch + kv_bytes / (bw * decode_memory_efficiency).
struct AttentionParams {
  double launch_s = 10e-6;
  double prefill_efficiency = 0.5;
  double decode_memory_efficiency = 0.7;
};

// Tensor-parallel all-reduce (ring): t = launch + 2 (r-1) step_latency + 2 (r-1)/r * bytes / (link * eff),
// where link is the node's per-GPU intra-node bandwidth from the catalog, so another fabric scales by physics.
struct AllReduceParams {
  double launch_s = 10e-6;
  double step_latency_s = 2e-6;
  double bandwidth_efficiency = 0.7;
};

// What a serving stack does to its isolated kernel times.
// Host time per iteration (scheduling, sampling, launches, worker synchronisation):
//   iteration_overhead + per_sequence * sequences + per_rank * tensor_parallel,
// plus, for iterations with prompt work (run eagerly: no CUDA graph), the time the host takes to launch
// the forward pass kernel by kernel. The GPU runs those kernels while later ones are being launched, so
// launching and GPU work overlap: the iteration takes the smooth maximum
//   (launch^p + gpu^p)^(1/p),  launch = prefill_launch_per_layer * layers,  p = launch_overlap,
// of the two rather than their sum (small prefills are launch-bound: Splitwise's H100 TP8 prefills of
// 128, 256 and 512 tokens all take ~55 ms).
// Sustained compute: an iteration with a lot of tensor-core work holds the GPUs at their power limit,
// where clocks drop and wander, while short bursts and memory-bound decode do not. Tensor-parallel ranks
// meet at every all-reduce, so each waits for the slowest of its peers: the loss grows with their number.
// The compute time is multiplied by
//   1 + H * (throttle_slowdown + peer_slowdown * (r - 1)),  H = x^q / (1 + x^q),
// with r the tensor-parallel degree and q throttle_sharpness, so small iterations run at the
// microbenchmarked (boost-clock) throughput. The onset x follows one of two clocks: x = B / throttle_busy_s
// when throttle_busy_s > 0, B the iteration's GEMM time at boost clock on one rank (how long the tensor
// cores are held busy: what a power limit integrates), else x = T / throttle_tokens, T the tokens computed
// (profiles before model revision 5). `calibrate` fits both and keeps the better one (docs/perf-model.md).
// Zero slowdowns = no throttling.
struct FrameworkParams {
  double iteration_overhead_s = 4e-3;
  double per_sequence_s = 0;
  double per_rank_s = 0;
  double prefill_launch_per_layer_s = 0;  // a layer's kernels are launched one by one
  double launch_overlap = 4;
  double throttle_slowdown = 0;
  double peer_slowdown = 0;
  double throttle_tokens = 4096;
  double throttle_sharpness = 1;
  double throttle_busy_s = 0;  // > 0: the onset follows the GEMM busy time (s) instead of the tokens

  // The factor on the compute peak (1 / the time multiplier above), for an iteration of `tokens` that
  // holds one rank's tensor cores busy for `busy_s` at boost clock.
  double ComputeScale(double tokens, int ranks, double busy_s = 0) const {
    const double x = throttle_busy_s > 0 ? std::pow(busy_s / throttle_busy_s, throttle_sharpness)
                                         : std::pow(tokens / throttle_tokens, throttle_sharpness);
    return 1.0 / (1.0 + x / (1.0 + x) * (throttle_slowdown + peer_slowdown * (ranks - 1)));
  }
};

// A GEMM shape measured on this GPU. The BLAS library picks a kernel per (m, n, k) and its choice jumps
// between neighbouring sizes (H100, n 8192 x k 28672: 269 us at m 512, 750 us at 520, 498 us at 656),
// which no smooth curve in (m, n, k) follows. For a measured (n, k) the time is the equation's for a GEMM
// of no projection times `factor` (measured / modelled), interpolated linearly in log m between the
// knots and held at the end values beyond them; the knots are measured m chosen so that interpolation
// stays within 1% of every measured ratio (gemm_shapes.h). A shape that was not measured gets the
// equation alone. Power caps still act through the equation (the factor is a ratio).
struct GemmShapeCorrection {
  int64_t n = 0, k = 0;
  std::vector<double> m;       // increasing
  std::vector<double> factor;  // at each m
};
// The ratios a profile may hold (the reader's range; the builder clamps to it).
inline constexpr double kMinGemmShapeFactor = 0.05, kMaxGemmShapeFactor = 20;

struct FitError {
  std::string method;    // e.g. "leave-one-model-out", "5-fold"
  double median_ape = 0, mape = 0, p90_ape = 0, max_ape = 0;
  int64_t n = 0;
};

inline std::map<std::string, StreamParams> DefaultStreams() {
  std::map<std::string, StreamParams> m;
  for (const auto& k : StreamKinds()) m[k] = StreamParams{};
  return m;
}

struct GpuProfile {
  std::string gpu;               // catalog GPU name
  std::string serving_stack;     // the stack folder it belongs to (serving_stacks.h)
  std::string status = "uncalibrated";  // "calibrated" or "uncalibrated"
  std::string derived_from;      // uncalibrated: the profile whose efficiencies it uses
  // The profile whose end-to-end fit supplied `framework` (host times, throttling) when neither this GPU
  // nor `derived_from` has end-to-end data; empty when they are this profile's own (or its source's).
  std::string framework_from;
  std::string created;           // date
  std::vector<std::string> sources;   // measurement files or the derivation
  // What the fit saw, by content: one digest per measurement set (MeasurementSetDigest in calibrate.h), so
  // `validate` calls a set in-sample only when its content is what the profile was fitted on. Empty in
  // profiles written before digests (validate then falls back to comparing paths with `sources`).
  struct FittedSet {
    std::string digest;                // "fnv1a64:<16 hex digits>"
    std::string what;                  // the set as named when fitted (a path)
  };
  std::vector<FittedSet> fitted_on;
  std::string command;           // how it was made
  GemmParams gemm;
  std::map<std::string, StreamParams> stream = DefaultStreams();  // by StreamKinds()
  AttentionParams attention;
  AllReduceParams allreduce;
  FrameworkParams framework;
  std::vector<GemmShapeCorrection> gemm_shapes;  // sorted by (n, k); empty: the equations alone
  std::map<std::string, FitError> fit;  // by operator family or phase

  bool calibrated() const { return status == "calibrated"; }
  // Whether `framework` was fitted to end-to-end measurements of this GPU.
  bool has_end_to_end_fit() const { return fit.contains("splitwise_prefill") || fit.contains("end_to_end"); }
};

// The revision of the equations a profile's parameters belong to, written into every profile; a profile
// of a revision this gpufleet cannot read is refused with a "regenerate it" error. 5: the sustained-load
// onset may follow the GEMM busy time (optional framework.throttle_busy_s; a revision-3 or -4 profile is a
// revision-5 profile without it), 4: measured GEMM shape corrections (optional; a revision-3 profile is a
// revision-4 profile without them), 3: GEMM projection factors and sustained slowdown (2: cache and wave
// terms, 1: the first fitted model).
inline constexpr int kProfileModelRevision = 5;
inline constexpr int kOldestReadableProfileRevision = 3;

// How a profile's sources name borrowed serving-stack parameters (followed by the donor GPU).
inline constexpr char kBorrowedFrameworkSource[] = "serving-stack parameters (framework) of ";

absl::StatusOr<GpuProfile> LoadGpuProfile(const std::string& path);
// Writes atomically (temporary file, then rename).
absl::Status WriteGpuProfile(const GpuProfile& profile, const std::string& path);

// The calibration root: $GPUFLEET_DATA_DIR/models/calibration or the source tree's. It holds stacks.yaml and
// one folder of profiles per serving stack (serving_stacks.h).
std::string CalibrationRoot();

// The profile for `gpu` from `dir`: its own file if present, else one derived from the nearest calibrated
// architecture (marked uncalibrated), else the built-in defaults (marked uncalibrated). The serving stack's
// parameters (`framework`) come from end-to-end data: when neither the GPU's own profile nor the one it
// derives from has any, they are taken from the nearest profile that does (`framework_from`), since host
// times measured on some GPU are better evidence than built-in guesses.
absl::StatusOr<GpuProfile> ProfileForGpu(const GpuSpec& gpu, const Catalog& catalog, const std::string& dir);

// `gpu`'s profile derived from another GPU's (`donor`, measured on `donor_gpu`): the donor's efficiencies
// on `gpu`'s spec sheet, marked uncalibrated, without its measured GEMM shapes or fit errors; the
// memory-bound kinds' efficiencies rescaled from the donor's SM throughput (SMs x clock) and bandwidth to
// `gpu`'s. The serving-stack parameters are the donor's.
GpuProfile DeriveProfile(const GpuSpec& gpu, const GpuProfile& donor, const GpuSpec& donor_gpu);

// A file-name-safe form of a GPU name ("H100-SXM-80GB" -> "H100-SXM-80GB.yaml").
std::string ProfileFileName(const std::string& gpu);

}  // namespace gpufleet
