// Power controllers (policies/power/): the staged caps of polca and predictive, static caps, their
// parameter checks, and, end to end, a capped cluster that stays within its budget where an uncapped one
// trips breakers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/power/power_controller.h"
#include "sim/engine/power_monitor.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

absl::StatusOr<std::unique_ptr<PowerController>> Make(const std::string& yaml) {
  YAML::Node n = YAML::Load(yaml);
  PolicyConfig cfg{n["type"].Scalar(), "s.yaml", n, "power.controller"};
  return PowerControllerRegistry::Get().Create(cfg);
}

std::unique_ptr<PowerController> MakeBound(const std::string& yaml) {
  auto c = Make(yaml);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return nullptr;
  EXPECT_TRUE((*c)->Bind(PolicyBinding{{"chat", "batch"}}).ok());
  return std::move(*c);
}

// Replica 0 in "chat", 1 and 2 in "batch"; 700 W GPUs settable down to 200 W.
std::vector<ReplicaPowerState> Fleet() {
  std::vector<ReplicaPowerState> r(3);
  for (int i = 0; i < 3; ++i) {
    r[i].replica = i;
    r[i].group = i == 0 ? 0 : 1;
    r[i].tdp_w = 700;
    r[i].min_limit_w = 200;
  }
  return r;
}

std::vector<double> Read(PowerController& c, double share, const std::vector<ReplicaPowerState>& fleet,
                         std::vector<double> limits = {0, 0, 0}) {
  PowerReading reading{10, 1, share * 10000, 10000, 1, fleet};
  c.Control(reading, &limits);
  return limits;
}

TEST(PowerController, PolcaCapsInStagesAndReleasesWithHysteresis) {
  auto c = MakeBound("{type: polca, cap_at: 0.9, brake_at: 0.97, release_at: 0.8, cap_fraction: 0.75, "
                     "brake_fraction: 0.5, protect: [chat]}");
  ASSERT_NE(c, nullptr);
  const auto fleet = Fleet();
  EXPECT_EQ(Read(*c, 0.85, fleet), (std::vector<double>{0, 0, 0}));       // under cap_at: nothing
  EXPECT_EQ(Read(*c, 0.92, fleet), (std::vector<double>{0, 525, 525}));   // batch capped, chat protected
  EXPECT_EQ(Read(*c, 0.85, fleet), (std::vector<double>{0, 525, 525}));   // between the thresholds: holds
  EXPECT_EQ(Read(*c, 0.98, fleet), (std::vector<double>{350, 350, 350})); // the brake: everyone
  EXPECT_EQ(Read(*c, 0.85, fleet), (std::vector<double>{0, 525, 525}));   // under cap_at: back to caps
  EXPECT_EQ(Read(*c, 0.79, fleet), (std::vector<double>{0, 0, 0}));       // under release_at: lifted
}

TEST(PowerController, CapsNeverGoBelowTheSettableRange) {
  auto c = MakeBound("{type: polca, cap_fraction: 0.2, brake_fraction: 0.1}");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Read(*c, 1.5, Fleet()), (std::vector<double>{200, 200, 200}));
}

TEST(PowerController, PredictiveCapsOnARisingTrendBeforePolcaWould) {
  auto predictive = MakeBound("{type: predictive, cap_at: 0.9, release_at: 0.8, cap_fraction: 0.75}");
  auto polca = MakeBound("{type: polca, cap_at: 0.9, release_at: 0.8, cap_fraction: 0.75}");
  ASSERT_NE(predictive, nullptr);
  ASSERT_NE(polca, nullptr);
  auto fleet = Fleet();
  fleet[1].waiting = 5;
  Read(*predictive, 0.70, fleet);
  Read(*polca, 0.70, fleet);
  fleet[1].waiting = 20;  // the queue grows with the power
  // 0.70 -> 0.81 in one 1 s reading: half that step (0.055 of the budget per s) over interval + delay (2 s)
  // forecasts 0.92 of the budget, past cap_at. Polca sees 0.81 and waits.
  EXPECT_EQ(Read(*predictive, 0.81, fleet), (std::vector<double>{525, 525, 525}));
  EXPECT_EQ(Read(*polca, 0.81, fleet), (std::vector<double>{0, 0, 0}));
}

TEST(PowerController, PredictiveReleasesOnlyAfterHoldReadings) {
  auto c = MakeBound("{type: predictive, cap_at: 0.9, release_at: 0.8, cap_fraction: 0.75, hold_readings: 3}");
  ASSERT_NE(c, nullptr);
  const auto fleet = Fleet();
  std::vector<double> limits = Read(*c, 0.95, fleet);
  ASSERT_EQ(limits, (std::vector<double>{525, 525, 525}));
  // Flat at 0.6 from here: the falling step first forecasts lower still, then the trend flattens.
  limits = Read(*c, 0.6, fleet, limits);
  EXPECT_EQ(limits[1], 525) << "released after one reading";
  limits = Read(*c, 0.6, fleet, limits);
  EXPECT_EQ(limits[1], 525) << "released after two readings";
  limits = Read(*c, 0.6, fleet, limits);
  EXPECT_EQ(limits, (std::vector<double>{0, 0, 0}));
}

TEST(PowerController, StaticCapsTheListedGroups) {
  auto c = MakeBound("{type: static, cap_fraction: 0.8, groups: [batch]}");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Read(*c, 0, Fleet()), (std::vector<double>{0, 560, 560}));
  auto w = MakeBound("{type: static, cap_w: 100}");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(Read(*w, 0, Fleet()), (std::vector<double>{200, 200, 200}));  // clamped to the settable range
}

TEST(PowerController, BadParametersAreLocated) {
  EXPECT_NE(Make("{type: polca, cap_at: 0.8, release_at: 0.9}").status().message().find("out of order"),
            std::string::npos);
  EXPECT_NE(Make("{type: static}").status().message().find("exactly one of cap_fraction and cap_w"), std::string::npos);
  EXPECT_NE(Make("{type: polca, cap_fraction: 0.5, brake_fraction: 0.7}").status().message().find("brake_fraction"),
            std::string::npos);
  auto c = Make("{type: polca, protect: [chatt]}");
  ASSERT_TRUE(c.ok()) << c.status();
  const absl::Status s = (*c)->Bind(PolicyBinding{{"chat", "batch"}});
  EXPECT_NE(s.message().find("s.yaml:1:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("'chatt' is not a deployment group"), std::string::npos) << s;
}

// One DGX-H100, two TP4 replicas under a heavy Poisson load; the IT power budget sits below its peak.
std::string Cluster(const std::string& power) {
  return R"(seed: 4
horizon_s: 120
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-70B
deployment: [{name: chat, gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 2, scheduler: sarathi}]
workload:
  synthetic:
    rate_rps: 6
    prompt_tokens: {dist: lognormal, median: 1500, sigma: 0.6, max: 3500}
    output_tokens: {dist: lognormal, median: 250, sigma: 0.6, max: 500}
)" + power;
}

nlohmann::json Simulate(const std::string& text) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "p.yaml", text);
  auto r = testing::RunGpufleet("simulate " + path + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? nlohmann::json::parse(r.output) : nlohmann::json{};
}

TEST(PowerController, ReactiveCappingKeepsTheClusterWithinItsBudget) {
  // Uncapped, the server's draw sits above 8.8 kW for whole breaker windows; capped by polca (a reading
  // a second, caps landing a second later), it never stays over long enough to trip one.
  const nlohmann::json none = Simulate(Cluster("power: {budget_w: 8800, breaker_window_s: 3}\n"));
  const nlohmann::json polca =
      Simulate(Cluster("power: {budget_w: 8800, breaker_window_s: 3, actuation_delay_s: 1, controller: polca}\n"));
  ASSERT_FALSE(none.empty());
  ASSERT_FALSE(polca.empty());
  EXPECT_GT(none["breaker_trips"].get<int>(), 0) << none.dump();
  EXPECT_EQ(polca["breaker_trips"].get<int>(), 0) << polca.dump();
  EXPECT_LT(polca["time_over_budget_s"].get<double>(), 0.25 * none["time_over_budget_s"].get<double>());
  EXPECT_GT(polca["cap_events"].get<int>(), 0);
  EXPECT_GT(polca["capped_gpu_s"].get<double>(), 0);
  EXPECT_EQ(polca["power_controller"], "polca");
  EXPECT_FALSE(none.contains("cap_events"));
}

TEST(PowerController, ABudgetlessCappingControllerIsAScenarioError) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "p.yaml", Cluster("power: {controller: polca}\n"));
  auto r = testing::RunGpufleet("simulate " + path + " --check", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("p.yaml:11:21:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("caps against a budget, and none is set"), std::string::npos) << r.output;
}

TEST(PowerDomains, RacksAndRowsTileTheServersInOrder) {
  PowerSpec spec;
  spec.rack_servers = 3;
  spec.rack_budget_w = 30000;
  spec.row_racks = 2;
  const auto d = PowerDomains(spec, 7);
  ASSERT_EQ(d.size(), 1u + 3 + 2);
  EXPECT_EQ(d[0].level, "cluster");
  EXPECT_EQ(d[0].servers, 7);
  EXPECT_EQ(d[3].name, "rack-2");
  EXPECT_EQ(d[3].first_server, 6);
  EXPECT_EQ(d[3].servers, 1);  // the last rack holds what is left
  EXPECT_EQ(d[3].budget_w, 30000);
  EXPECT_EQ(d[5].name, "row-1");
  EXPECT_EQ(d[5].first_server, 6);
  EXPECT_EQ(d[5].servers, 1);
  EXPECT_EQ(ControlLevel(spec), "rack");
  spec.rack_budget_w = 0;
  EXPECT_EQ(ControlLevel(spec), "cluster");  // no budget below the cluster's
}

// Two servers, a rack each, each rack's budget below what its server draws: per-rack polca keeps every rack
// from tripping its breaker, and the racks' readings add up to the cluster's.
TEST(PowerDomains, PerRackCappingKeepsEachRackWithinItsBudget) {
  std::string two = Cluster("");
  two.replace(two.find("count: 1"), 8, "count: 2");
  two.replace(two.find("replicas: 2"), 11, "replicas: 4");
  two.replace(two.find("rate_rps: 6"), 11, "rate_rps: 12");
  const std::string racks = "power: {breaker_window_s: 3, racks: {servers: 1, budget_w: 8800}";
  const nlohmann::json none = Simulate(two + racks + "}\n");
  const nlohmann::json polca = Simulate(two + racks + ", controller: polca}\n");
  ASSERT_FALSE(none.empty());
  ASSERT_FALSE(polca.empty());
  ASSERT_EQ(none["power_domains"].size(), 2u) << none.dump();
  double rack_kwh = 0, none_trips = 0;
  for (const auto& d : none["power_domains"]) {
    EXPECT_EQ(d["level"], "rack");
    EXPECT_LE(d["peak_w"].get<double>(), none["it_power_peak_w"].get<double>());
    rack_kwh += d["energy_kwh"].get<double>();
    none_trips += d["breaker_trips"].get<double>();
  }
  EXPECT_NEAR(rack_kwh, none["server_energy_kwh"].get<double>(), 1e-9 * rack_kwh);
  EXPECT_GT(none_trips, 0) << none.dump();
  for (const auto& d : polca["power_domains"]) EXPECT_EQ(d["breaker_trips"].get<int>(), 0) << polca.dump();
  EXPECT_GT(polca["cap_events"].get<int>(), 0);
}

// With a time series into the database, every power reading lands in power_series: the servers' rows add
// up to the cluster's at every instant, and a rack of one server reads what its server does.
TEST(PowerDomains, PowerSeriesRowsAddUp) {
  std::string two = Cluster("power: {telemetry_interval_s: 2, racks: {servers: 1}}\n");
  two.replace(two.find("count: 1"), 8, "count: 2");
  two.replace(two.find("replicas: 2"), 11, "replicas: 4");
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "p.yaml", two);
  auto r = testing::RunGpufleet("simulate " + path + " --db " + dir + "/s.db --series-interval 10");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/s.db").c_str(), &db), SQLITE_OK);
  const int64_t readings = testing::QueryInt(db, "SELECT COUNT(*) FROM power_series WHERE domain = 'cluster'");
  EXPECT_GT(readings, 50);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM power_series"), readings * (1 + 2 + 2));
  // Instants where the servers' sum misses the cluster by more than a microwatt, or a rack its server.
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM (SELECT t_s, SUM(CASE WHEN level = 'server' THEN power_w "
                                  "ELSE 0 END) AS s, MAX(CASE WHEN level = 'cluster' THEN power_w END) AS c FROM "
                                  "power_series GROUP BY t_s) WHERE ABS(s - c) > 1e-6"),
            0);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM power_series a JOIN power_series b ON a.t_s = b.t_s AND "
                                  "a.domain = 'rack-1' AND b.domain = 'server-1' WHERE a.power_w != b.power_w"),
            0);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM power_domains"), 2);
  sqlite3_close(db);
}

TEST(PowerDomains, RowsWithoutRacksAreAScenarioError) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "p.yaml", Cluster("power: {rows: {racks: 2}}\n"));
  auto r = testing::RunGpufleet("simulate " + path + " --check", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("p.yaml:11:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("power.racks is not set"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gpufleet
