// GPU power per iteration and the clock a power limit allows (see power_model.h).
#include "models/power_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gpufleet {
namespace {

// The spec-derived operating points (see DerivedPowerParams).
constexpr double kDerivedGemmShareOfPeak = 0.7;
constexpr double kDerivedStreamShareOfBandwidth = 0.9;
constexpr double kDerivedStreamShareOfTdp = 0.6;
constexpr double kDerivedActiveShareOfTdp = 0.15;
constexpr double kDerivedPjPerLinkByte = 10;  // NVLink-class SerDes, ~1.3 pJ/bit, plus the copy engines

// Mean power of an iteration at clock scale `s` and its time there.
struct AtClock {
  double seconds, power_w, energy_j;
};

AtClock Evaluate(const IterationCost& c, const GpuPowerParams& p, double s) {
  const double seconds = c.seconds + c.compute_s * (1.0 / s - 1.0) +
                         c.memory_s * (std::max(1.0, p.memory_clock_knee / s) - 1.0);
  const double dynamic_j = p.pj_per_flop * 1e-12 * c.flops * std::pow(s, p.flop_energy_clock_exponent) +
                           p.pj_per_hbm_byte * 1e-12 * c.hbm_bytes + p.pj_per_link_byte * 1e-12 * c.link_bytes;
  const double energy = (p.idle_w + p.active_w * s) * seconds + dynamic_j;
  return {seconds, seconds > 0 ? energy / seconds : p.idle_w, energy};
}

}  // namespace

GpuPowerParams DerivedPowerParams(const GpuSpec& gpu) {
  GpuPowerParams p;
  p.gpu = gpu.name;
  p.tdp_w = gpu.tdp_w;
  p.idle_w = gpu.idle_w;
  p.min_limit_w = gpu.min_power_w > 0 ? gpu.min_power_w : gpu.tdp_w;
  p.max_limit_w = gpu.max_power_w > 0 ? gpu.max_power_w : gpu.tdp_w;
  p.active_w = kDerivedActiveShareOfTdp * gpu.tdp_w;
  const double dynamic = std::max(0.0, gpu.tdp_w - p.idle_w - p.active_w);
  const double peak = gpu.fp16_tflops * 1e12, bandwidth = gpu.hbm_gbps * 1e9;
  p.pj_per_flop = peak > 0 ? dynamic / (kDerivedGemmShareOfPeak * peak) * 1e12 : 0;
  const double stream = std::max(0.0, kDerivedStreamShareOfTdp * gpu.tdp_w - p.idle_w - p.active_w);
  p.pj_per_hbm_byte = bandwidth > 0 ? stream / (kDerivedStreamShareOfBandwidth * bandwidth) * 1e12 : 0;
  p.pj_per_link_byte = kDerivedPjPerLinkByte;
  p.status = "derived";
  p.source = absl::StrFormat(
      "spec sheet: idle %g W, TDP %g W; a GEMM at %.0f%% of the %g TFLOP/s peak draws the TDP, a stream at %.0f%% "
      "of %g GB/s draws %.0f%% of it",
      gpu.idle_w, gpu.tdp_w, 100 * kDerivedGemmShareOfPeak, gpu.fp16_tflops, 100 * kDerivedStreamShareOfBandwidth,
      gpu.hbm_gbps, 100 * kDerivedStreamShareOfTdp);
  return p;
}

PoweredIteration PowerIteration(const IterationCost& cost, const GpuPowerParams& p, double limit_w) {
  PoweredIteration out;
  if (!cost.activity_known) {
    out.seconds = cost.seconds;
    out.power_w = p.idle_w + p.active_w + 0.5 * std::max(0.0, p.tdp_w - p.idle_w - p.active_w);
    out.energy_j = out.power_w * cost.seconds;
    return out;
  }
  const double limit = limit_w > 0 ? limit_w : p.tdp_w;
  AtClock at = Evaluate(cost, p, 1.0);
  double s = 1.0;
  if (limit > 0 && at.power_w > limit) {
    // Mean power falls monotonically with the clock (compute time stretches, energy per FLOP and activity
    // power drop, below the knee memory time stretches too): bisect for the highest clock within the limit,
    // or stop at the lowest clock.
    double lo = p.min_clock_scale, hi = 1.0;
    if (Evaluate(cost, p, lo).power_w > limit) {
      hi = lo;
    } else {
      for (int i = 0; i < 40; ++i) {
        const double mid = 0.5 * (lo + hi);
        (Evaluate(cost, p, mid).power_w > limit ? hi : lo) = mid;
      }
      hi = lo;
    }
    s = hi;
    at = Evaluate(cost, p, s);
  }
  out.seconds = at.seconds;
  out.energy_j = at.energy_j;
  out.power_w = at.power_w;
  out.clock_scale = s;
  return out;
}

std::string PowerParamsLabel(const GpuPowerParams& p) {
  return absl::StrCat(p.gpu, ": ", p.status == "fitted" ? "fitted" : "derived from spec", " (", p.source, ")");
}

}  // namespace gpufleet
