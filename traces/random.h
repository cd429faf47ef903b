// Deterministic random numbers for synthetic workloads. Everything here is written out by hand
// (splitmix64 seeding, xoshiro256** generator, inversion / polar / Marsaglia-Tsang samplers) so that a
// seed gives the same sequence on every platform and compiler; std:: distributions are
// implementation-defined and are not used. The only libm calls are std::log, std::exp and std::sqrt.
#pragma once

#include <cstdint>
#include "absl/strings/string_view.h"

namespace gpufleet {

// One step of splitmix64: advances *state and returns the next output.
uint64_t SplitMix64(uint64_t* state);

// A seed for an independent sub-stream, e.g. DeriveSeed(seed, "arrivals"). Mixes the FNV-1a hash of
// `label` into `seed` through splitmix64, so distinct labels give unrelated streams.
uint64_t DeriveSeed(uint64_t seed, absl::string_view label);

// xoshiro256** (Blackman & Vigna) seeded by four splitmix64 outputs.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t NextU64();
  // Uniform in [0, 1), 53 random bits.
  double Uniform();
  // Uniform in (0, 1], 53 random bits (safe for log()).
  double UniformOpenZero();
  // Uniform integer in [lo, hi] inclusive, unbiased (rejection). Requires lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Exponential with the given rate (mean 1/rate), by inversion.
  double Exponential(double rate);
  // Standard normal, Marsaglia's polar method (the second value of each pair is cached).
  double Normal();
  // Gamma(shape, scale) by Marsaglia & Tsang (2000); shape < 1 uses Gamma(shape+1) * U^(1/shape).
  double Gamma(double shape, double scale);

 private:
  uint64_t s_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

}  // namespace gpufleet
