// Tests for the NVML-dependent pieces of the microbenchmark suite on a machine without NVML: loading fails
// with a clear message, sampling degrades to empty readings, and a power-limit sweep refuses up front.
#include <gtest/gtest.h>

#include "tools/microbench/nvml.h"
#include "tools/microbench/power_limit.h"
#include "tools/microbench/power_sampler.h"

namespace gpufleet::microbench {
namespace {

TEST(MicrobenchPower, MissingNvmlIsUnavailableNotFatal) {
  auto nvml = Nvml::Load("libgpufleet-no-such-nvml.so.1");
  ASSERT_FALSE(nvml.ok());
  EXPECT_EQ(nvml.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(nvml.status().message().find("NVML not available"), std::string::npos) << nvml.status();
  // A library without the NVML symbols is refused too (libm is present everywhere).
  auto wrong = Nvml::Load("libm.so.6");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("lacks nvmlInit_v2"), std::string::npos) << wrong.status();
}

TEST(MicrobenchPower, SamplerWithoutNvmlReportsNothing) {
  PowerSampler sampler(nullptr, {});
  EXPECT_FALSE(sampler.enabled());
  sampler.Start();
  PowerReading r = sampler.Stop();
  EXPECT_FALSE(r.mean_power_w.has_value());
  EXPECT_FALSE(r.sm_clock_mhz.has_value());
  EXPECT_EQ(r.polls, 0);
}

TEST(MicrobenchPower, PowerLimitSweepRefusesWithoutNvml) {
  PowerLimitGuard guard(nullptr, {});
  absl::Status s = guard.CheckCanSet({300});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--power-limits needs NVML"), std::string::npos) << s;
  EXPECT_FALSE(guard.Set(300).ok());
  EXPECT_TRUE(guard.Restore().ok());  // nothing was set, nothing to restore
  PowerLimitGuard::EmergencyRestore();  // safe with nothing set
}

}  // namespace
}  // namespace gpufleet::microbench
