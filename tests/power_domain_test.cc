// The facility's power (the scenario's power: section, sim/engine/power_monitor.h): readings that add up to
// the servers' energy, PUE, budgets and breaker trips, servers that are off, and input checks.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

// Four TP1 Llama-2-7B replicas on the first of two DGX-H100 servers (the second holds none), Poisson load.
std::string Scenario(const std::string& power) {
  return R"(seed: 3
horizon_s: 60
cluster: {nodes: [{type: DGX-H100, count: 2}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 4}]
workload:
  synthetic: {arrival: poisson, rate_rps: 12, prompt_tokens: {dist: fixed, value: 800}, output_tokens: {dist: fixed, value: 200}}
)" + power;
}

// One run in this process (SimGrid allows one per process): its result and summary.
struct Outcome {
  RunResult run;
  RunSummary summary;
};

Outcome SimulateHere(const std::string& text) {
  auto s = LoadScenarioFromString(text, "power.yaml", ".", RealCatalog());
  EXPECT_TRUE(s.ok()) << s.status();
  RunOptions options;
  options.progress = false;
  auto run = RunSimulation(*s, RealCatalog(), options);
  EXPECT_TRUE(run.ok()) << run.status();
  RunSummary summary = Summarize(*s, RealCatalog(), *run);
  return {*std::move(run), summary};
}

// Further runs go through the CLI, each its own process: the JSON summary.
nlohmann::json SimulateCli(const std::string& text) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "power.yaml", text);
  auto r = testing::RunGpufleet("simulate " + dir + "/power.yaml --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output);
}

TEST(PowerDomain, ReadingsAddUpToTheServersEnergyAndPueScalesTheFacility) {
  const Outcome o = SimulateHere(Scenario("power: {pue: 1.25, telemetry_interval_s: 0.5}\n"));
  ASSERT_GT(o.run.power.readings, 100);
  EXPECT_NEAR(o.run.power.it_energy_j / 3.6e6, o.summary.server_energy_kwh, 1e-3 * o.summary.server_energy_kwh);
  EXPECT_DOUBLE_EQ(o.summary.facility_energy_kwh, 1.25 * o.summary.server_energy_kwh);
  EXPECT_GE(o.summary.it_power_peak_w, o.summary.it_power_p99_w);
  EXPECT_GE(o.summary.it_power_p99_w, o.summary.server_mean_power_w * 0.9);
  // Two DGX-H100s: at least their idle draw (GPUs and the rest), at most their maximum.
  const NodeSpec& dgx = *RealCatalog().FindNode("DGX-H100");
  const GpuSpec& h100 = *RealCatalog().FindGpu("H100-SXM-80GB");
  EXPECT_GT(o.summary.server_mean_power_w, 2 * (dgx.non_gpu_idle_w + 8 * h100.idle_w));
  EXPECT_LT(o.summary.it_power_peak_w, 2 * (dgx.non_gpu_max_w + 8 * h100.tdp_w));
  EXPECT_FALSE(o.summary.carbon_kg.has_value());
}

TEST(PowerDomain, AReplicaSpanningTwoServersDrawsOnEachThroughItsGpusThere) {
  // TP16 over two DGX-H100: each server carries 8 of its GPUs, so the readings add up to the GPUs' energy
  // counted once (a replica counted whole on both servers would read twice its GPUs' power).
  const Outcome o = SimulateHere(R"(seed: 3
horizon_s: 30
cluster: {nodes: [{type: DGX-H100, count: 2}]}
model: Llama-2-70B
deployment: [{gpu: H100-SXM-80GB, tensor_parallel: 16}]
workload:
  synthetic: {arrival: poisson, rate_rps: 4, prompt_tokens: {dist: fixed, value: 800}, output_tokens: {dist: fixed, value: 100}}
power: {racks: {servers: 2}}
)");
  ASSERT_GT(o.summary.requests_completed, 0);
  EXPECT_NEAR(o.run.power.it_energy_j / 3.6e6, o.summary.server_energy_kwh, 1e-3 * o.summary.server_energy_kwh);
}

TEST(PowerDomain, AServerWithoutReplicasCanBeOff) {
  const auto idle = SimulateCli(Scenario(""));
  const auto off = SimulateCli(Scenario("power: {idle_servers: off}\n"));
  const NodeSpec& dgx = *RealCatalog().FindNode("DGX-H100");
  const GpuSpec& h100 = *RealCatalog().FindGpu("H100-SXM-80GB");
  // The same run, less the second server's idle draw.
  EXPECT_NEAR(idle["server_mean_power_w"].get<double>() - off["server_mean_power_w"].get<double>(),
              dgx.non_gpu_idle_w + 8 * h100.idle_w, 1.0);
  EXPECT_NEAR(idle["mean_power_w"].get<double>() - off["mean_power_w"].get<double>(), 8 * h100.idle_w, 1.0);
}

TEST(PowerDomain, ABudgetBelowTheDrawTripsBreakersAndOneAboveItDoesNot) {
  const auto free = SimulateCli(Scenario(""));
  EXPECT_FALSE(free.contains("breaker_trips"));  // no budget, nothing to trip
  const double mean = free["server_mean_power_w"].get<double>();
  const auto tight = SimulateCli(Scenario("power: {budget_w: " + std::to_string(0.97 * mean) + ", breaker_window_s: 2}\n"));
  EXPECT_GT(tight["time_over_budget_s"].get<double>(), 10);
  EXPECT_GE(tight["breaker_trips"].get<int>(), 1);
  const auto loose = SimulateCli(Scenario("power: {budget_w: " + std::to_string(2 * mean) + "}\n"));
  EXPECT_EQ(loose["time_over_budget_s"].get<double>(), 0);
  EXPECT_EQ(loose["breaker_trips"].get<int>(), 0);
  // Watching power changes nothing of the run.
  EXPECT_DOUBLE_EQ(tight["server_energy_kwh"].get<double>(), free["server_energy_kwh"].get<double>());
  EXPECT_DOUBLE_EQ(tight["ttft_p99_s"].get<double>(), free["ttft_p99_s"].get<double>());
  const auto carbon = SimulateCli(Scenario("power: {carbon_g_per_kwh: 400}\n"));
  EXPECT_DOUBLE_EQ(carbon["carbon_kg"].get<double>(), carbon["facility_energy_kwh"].get<double>() * 0.4);
}

TEST(PowerDomain, BadPowerSectionsNameTheLine) {
  for (const auto& [section, what] : std::vector<std::pair<std::string, std::string>>{
           {"power: {pue: 0.8}\n", "pue"},
           {"power: {idle_servers: sleep}\n", "idle_servers"},
           {"power: {budget_w: 1000, telemetry_interval_s: 2, breaker_window_s: 1}\n",
            "breaker_window_s 1 is shorter than telemetry_interval_s 2"},
           {"power: {budgett_w: 1}\n", "budgett_w"}}) {
    auto s = LoadScenarioFromString(Scenario(section), "power.yaml", ".", RealCatalog());
    ASSERT_FALSE(s.ok()) << section;
    const std::string msg(s.status().message());
    EXPECT_NE(msg.find("power.yaml:8:"), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gpufleet
