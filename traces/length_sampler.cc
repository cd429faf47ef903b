#include "traces/length_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

constexpr int64_t kMaxLength = std::numeric_limits<uint32_t>::max();

absl::Status Bad(absl::string_view name, absl::string_view what, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", what, "; expected ", expected));
}

}  // namespace

absl::Status ValidateLengthSpec(const LengthSpec& spec, absl::string_view name) {
  switch (spec.kind) {
    case LengthSpec::Kind::kFixed:
      if (spec.value < 1 || spec.value > kMaxLength) {
        return Bad(name, absl::StrCat("value is ", spec.value), "an integer from 1 to 4294967295");
      }
      return absl::OkStatus();
    case LengthSpec::Kind::kUniform:
      if (spec.min < 1 || spec.max > kMaxLength || spec.min > spec.max) {
        return Bad(name, absl::StrCat("uniform min ", spec.min, ", max ", spec.max),
                   "1 <= min <= max <= 4294967295");
      }
      return absl::OkStatus();
    case LengthSpec::Kind::kLognormal:
      if (!(spec.median > 0) || !std::isfinite(spec.median)) {
        return Bad(name, absl::StrCat("lognormal median is ", spec.median), "a number > 0");
      }
      if (!(spec.sigma >= 0) || !std::isfinite(spec.sigma)) {
        return Bad(name, absl::StrCat("lognormal sigma is ", spec.sigma), "a number >= 0");
      }
      if (spec.max > kMaxLength || spec.min > spec.max || spec.max < 1) {
        return Bad(name, absl::StrCat("lognormal min ", spec.min, ", max ", spec.max),
                   "min <= max, 1 <= max <= 4294967295");
      }
      if (spec.median > static_cast<double>(spec.max)) {
        return Bad(name, absl::StrCat("lognormal median ", spec.median, " is above max ", spec.max),
                   "max >= median (set max, e.g. to the model's context length)");
      }
      return absl::OkStatus();
  }
  return Bad(name, "unknown length distribution", "fixed, uniform or lognormal");
}

uint32_t LengthSampler::Sample() {
  switch (spec_.kind) {
    case LengthSpec::Kind::kFixed:
      return static_cast<uint32_t>(spec_.value);
    case LengthSpec::Kind::kUniform:
      return static_cast<uint32_t>(rng_.UniformInt(spec_.min, spec_.max));
    case LengthSpec::Kind::kLognormal: {
      const double x = std::floor(spec_.median * std::exp(spec_.sigma * rng_.Normal()) + 0.5);
      const double lo = static_cast<double>(std::max<int64_t>(spec_.min, 1));
      const double hi = static_cast<double>(spec_.max);
      return static_cast<uint32_t>(std::clamp(x, lo, hi));
    }
  }
  return 1;
}

}  // namespace gpufleet
