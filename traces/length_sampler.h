// Draws token lengths from a LengthSpec (fixed, uniform integer, or rounded and clamped lognormal)
// with its own deterministic Rng.
#pragma once

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "traces/random.h"
#include "traces/workload_spec.h"

namespace gpufleet {

// InvalidArgument ("NAME: ...; expected ...") unless `spec` describes lengths in [1, 2^32-1]:
// fixed value >= 1; uniform 1 <= min <= max; lognormal median > 0, sigma >= 0, min <= max and
// median <= max (a max below the median clamps most draws, which is a forgotten max).
absl::Status ValidateLengthSpec(const LengthSpec& spec, absl::string_view name);

class LengthSampler {
 public:
  // `spec` must have passed ValidateLengthSpec.
  LengthSampler(const LengthSpec& spec, uint64_t seed) : spec_(spec), rng_(seed) {}

  // kFixed: value. kUniform: integer in [min, max]. kLognormal: round(median * exp(sigma * N(0,1)))
  // clamped to [max(min, 1), max].
  uint32_t Sample();

 private:
  LengthSpec spec_;
  Rng rng_;
};

}  // namespace gpufleet
