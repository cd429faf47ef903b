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

// Mean power of an iteration at clock scale `s` and its time there, when the perf model's time for it
// is the time at clock `ref`.
struct AtClock {
  double seconds, power_w, energy_j;
};

AtClock Evaluate(const IterationCost& c, const GpuPowerParams& p, double s, double ref) {
  const double seconds = c.seconds + c.compute_s * (ref / s - 1.0) +
                         c.memory_s * (std::max(1.0, p.memory_clock_knee / s) - std::max(1.0, p.memory_clock_knee / ref));
  const double dynamic_j = p.pj_per_flop * 1e-12 * c.flops * std::pow(s, p.flop_energy_clock_exponent) +
                           p.pj_per_hbm_byte * 1e-12 * c.hbm_bytes + p.pj_per_link_byte * 1e-12 * c.link_bytes;
  const double energy = (p.idle_w + p.active_w * s) * seconds + dynamic_j;
  return {seconds, seconds > 0 ? energy / seconds : p.idle_w, energy};
}

// The highest clock in [min_clock, top] at which `power(clock)` (falling with the clock) is within
// `limit`; min_clock when even that is over.
template <typename PowerAt>
double ClockWithin(const GpuPowerParams& p, double limit, double top, const PowerAt& power) {
  if (power(top) <= limit) return top;
  double lo = std::min(p.min_clock_scale, top), hi = top;
  if (power(lo) > limit) return lo;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (power(mid) > limit ? hi : lo) = mid;
  }
  return lo;
}

}  // namespace

GpuPowerParams DerivedPowerParams(const GpuSpec& gpu) {
  GpuPowerParams p;
  p.gpu = gpu.name;
  p.tdp_w = gpu.tdp_w;
  p.idle_w = gpu.idle_w;
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
  // The perf model is calibrated on GPUs running at their default limit (the TDP): its time is the time at
  // the clock that keeps this work within the TDP over that time, so the default limit never slows an
  // iteration; a lower limit lowers the clock from there and stretches the time.
  const double at_tdp =
      p.tdp_w > 0 ? ClockWithin(p, p.tdp_w, 1.0, [&](double clock) { return Evaluate(cost, p, clock, clock).power_w; })
                  : 1.0;
  double s = at_tdp;
  if (limit_w > 0 && limit_w < p.tdp_w) {
    s = ClockWithin(p, limit_w, at_tdp, [&](double clock) { return Evaluate(cost, p, clock, at_tdp).power_w; });
  }
  const AtClock at = Evaluate(cost, p, s, at_tdp);
  out.seconds = at.seconds;
  out.energy_j = at.energy_j;
  out.power_w = at.power_w;
  out.clock_scale = s / at_tdp;  // relative to the calibrated clock: < 1 when the limit slowed it
  return out;
}

std::string PowerParamsLabel(const GpuPowerParams& p) {
  if (p.status == "fitted") return absl::StrCat(p.gpu, ": fitted to measured power (models/power/", p.gpu, ".yaml)");
  if (p.status == "scenario") return absl::StrCat(p.gpu, ": set by the scenario's gpu_power");
  return absl::StrFormat("%s: derived from spec (idle %g W, TDP %g W; not fitted to measured power)", p.gpu, p.idle_w,
                         p.tdp_w);
}

}  // namespace gpufleet
