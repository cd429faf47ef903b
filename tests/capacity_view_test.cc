// `gpufleet report --capacity`: each design's highest sustained load, from the lowest load up.
#include <gtest/gtest.h>

#include "orchestration/capacity_view.h"

namespace gpufleet {
namespace {

ReportPoint Point(int64_t config, const std::string& design, double load, bool meets, double attainment) {
  ReportPoint p;
  p.config = config;
  p.overrides = {{"name", design}, {"workload.rate_multiplier", load}};
  p.seeds = {1};
  p.meets_slos = meets;
  p.metrics["slo_attainment"] = {attainment, 0, 1};
  return p;
}

SweepReport Report() {
  SweepReport r;
  r.name = "study";
  r.override_paths = {"name", "workload.rate_multiplier"};
  // Design a: passes 1 and 2, fails 3, passes 4 (a lucky pass that must not count).
  r.points = {Point(0, "a", 1, true, 0.99), Point(1, "a", 2, true, 0.95), Point(2, "a", 3, false, 0.80),
              Point(3, "a", 4, true, 0.70),
              // Design b, listed out of load order: passes everything by percentiles.
              Point(4, "b", 2, true, 0.90), Point(5, "b", 1, true, 0.97),
              // Design c never passes.
              Point(6, "c", 1, false, 0.50), Point(7, "c", 2, false, 0.40)};
  return r;
}

TEST(CapacityView, HighestLoadOfTheUnbrokenRunFromTheLowest) {
  SweepReport r = Report();
  ASSERT_TRUE(KeepCapacityPoints(&r, "workload.rate_multiplier", std::nullopt).ok());
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_EQ(r.points[0].overrides["name"], "a");
  EXPECT_EQ(r.points[0].overrides["workload.rate_multiplier"], 2);
  EXPECT_TRUE(r.points[0].meets_slos);
  EXPECT_EQ(r.points[1].overrides["workload.rate_multiplier"], 2);
  EXPECT_FALSE(r.points[2].meets_slos) << "c sustains no load";
  EXPECT_EQ(r.points[2].overrides["workload.rate_multiplier"], 1) << "its lowest point is kept";
}

TEST(CapacityView, MinimumAttainmentReplacesThePercentiles) {
  SweepReport r = Report();
  ASSERT_TRUE(KeepCapacityPoints(&r, "workload.rate_multiplier", 0.96).ok());
  EXPECT_EQ(r.points[0].overrides["workload.rate_multiplier"], 1) << "a: 0.95 at load 2 is below 0.96";
  EXPECT_EQ(r.points[1].overrides["workload.rate_multiplier"], 1) << "b: 0.90 at load 2";
  EXPECT_TRUE(r.points[1].meets_slos);
}

TEST(CapacityView, AnUnknownOrNonNumericAxisIsAnError) {
  SweepReport r = Report();
  auto st = KeepCapacityPoints(&r, "workload.rate", std::nullopt);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("workload.rate_multiplier"), std::string::npos) << st;
  r = Report();
  st = KeepCapacityPoints(&r, "name", std::nullopt);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("numeric"), std::string::npos) << st;
}

}  // namespace
}  // namespace gpufleet
