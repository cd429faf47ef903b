// The capacity planner's integer program (orchestration/plan/): Mélange's own example, the ILP against
// exhaustive search on small random tables (plain per-GPU pricing; whole nodes, availability and power),
// infeasible tables with their explanations, and Mélange JSON input errors through `gpufleet plan`.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "orchestration/plan/ilp_solver.h"
#include "orchestration/plan/melange_input.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

GpuOption Option(const std::string& name, double price, std::vector<double> tputs) {
  GpuOption o;
  o.name = name;
  o.price_per_gpu_hour = price;
  o.tputs = std::move(tputs);
  return o;
}

const std::string kMelangeExample = std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/plans/melange-example.json";

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The cheapest allocation by trying every assignment of every slice, written apart from the solver's
// helpers (NodesForUnits, MaxUnits) so that a shared mistake cannot hide. Infinity when none is feasible.
// Loads use the solver's documented slack of 1e-6 units.
double BruteForceCost(const CapacityTable& t) {
  std::vector<std::pair<size_t, double>> slices;  // (bucket, rate)
  for (size_t b = 0; b < t.rates.size(); ++b) {
    for (int64_t s = 0; s < t.slice_factor && t.rates[b] > 0; ++s) {
      slices.push_back({b, t.rates[b] / static_cast<double>(t.slice_factor)});
    }
  }
  const size_t k = t.options.size();
  std::vector<size_t> choice(slices.size(), 0);
  double best = std::numeric_limits<double>::infinity();
  while (true) {
    std::vector<double> load(k, 0);
    bool servable = true;
    for (size_t i = 0; i < slices.size(); ++i) {
      const double tput = t.options[choice[i]].tputs[slices[i].first];
      if (tput > 0) {
        load[choice[i]] += slices[i].second / tput;
      } else {
        servable = false;
      }
    }
    double cost = 0, watts = 0;
    for (size_t o = 0; o < k && servable; ++o) {
      const GpuOption& g = t.options[o];
      const int64_t units = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(load[o] - 1e-6)));
      int64_t gpus = units * g.gpus_per_replica;
      if (g.node.has_value()) {
        const int64_t per_node = g.node->gpus_per_node;
        const int64_t nodes = g.gpus_per_replica <= per_node ? CeilDiv(units, per_node / g.gpus_per_replica)
                                                             : units * CeilDiv(g.gpus_per_replica, per_node);
        gpus = nodes * per_node;
        cost += static_cast<double>(nodes) * g.node->price_per_hour;
      } else {
        cost += static_cast<double>(gpus) * g.price_per_gpu_hour;
      }
      if (g.max_gpus.has_value() && gpus > *g.max_gpus) servable = false;
      watts += static_cast<double>(units) * g.watts_per_unit;
    }
    if (t.power_budget_w.has_value() && watts > *t.power_budget_w) servable = false;
    if (servable) best = std::min(best, cost);
    size_t i = 0;  // next assignment, odometer style
    while (i < choice.size() && ++choice[i] == k) choice[i++] = 0;
    if (i == choice.size()) break;
  }
  return best;
}

double Round2(double v) { return std::round(v * 100) / 100; }

// 2-3 options, 2-4 buckets, slice factor 1-2; tputs and rates with two decimals, some 0.
CapacityTable RandomTable(std::mt19937_64& rng, bool shaped) {
  std::uniform_int_distribution<int> options(2, 3), buckets(2, 4), slices(1, 2), pick(0, 99);
  std::uniform_real_distribution<double> tput(0.5, 8), rate(0.1, 10), price(0.5, 10);
  CapacityTable t;
  t.slice_factor = slices(rng);
  const int nb = buckets(rng);
  for (int b = 0; b < nb; ++b) {
    t.rates.push_back(pick(rng) < 15 ? 0 : Round2(rate(rng)));
    t.bucket_names.push_back(absl::StrCat("b", b));
  }
  const int no = options(rng);
  for (int o = 0; o < no; ++o) {
    GpuOption g;
    g.name = absl::StrCat("gpu", o);
    g.price_per_gpu_hour = Round2(price(rng));
    for (int b = 0; b < nb; ++b) g.tputs.push_back(pick(rng) < 20 ? 0 : Round2(tput(rng)));
    if (shaped) {
      const int64_t replica_gpus[] = {1, 2, 3, 4, 8};  // 3 in 4-, 6- or 8-GPU nodes leaves GPUs idle
      const int64_t node_gpus[] = {1, 2, 4, 6, 8};
      g.gpus_per_replica = replica_gpus[pick(rng) % 5];
      g.node = NodeShape{node_gpus[pick(rng) % 5], Round2(price(rng) * 4)};
      if (pick(rng) < 60) g.max_gpus = pick(rng) % 25;
      g.watts_per_unit = 100 + pick(rng) * 5;
    }
    t.options.push_back(std::move(g));
  }
  if (shaped && pick(rng) < 40) t.power_budget_w = 300 + pick(rng) * 30;
  return t;
}

// The solution obeys the table: every slice served by an option that can serve it, loads within units,
// nodes hold the units, limits kept, costs add up.
void ExpectConsistent(const CapacityTable& t, const IlpSolution& s) {
  double total = 0, watts = 0;
  for (size_t b = 0; b < t.rates.size(); ++b) {
    int64_t served = 0;
    for (size_t o = 0; o < t.options.size(); ++o) {
      served += s.slices[b][o];
      if (s.slices[b][o] > 0) {
        EXPECT_GT(t.options[o].tputs[b], 0) << "bucket " << b << " option " << o;
      }
    }
    EXPECT_EQ(served, t.rates[b] > 0 ? t.slice_factor : 0) << "bucket " << b;
  }
  for (size_t o = 0; o < t.options.size(); ++o) {
    EXPECT_LE(s.load[o], static_cast<double>(s.units[o]) + 1e-6);
    if (t.options[o].max_gpus.has_value()) {
      EXPECT_LE(s.gpus[o], *t.options[o].max_gpus);
    }
    total += s.cost[o];
    watts += static_cast<double>(s.units[o]) * t.options[o].watts_per_unit;
  }
  EXPECT_NEAR(total, s.total_cost, 1e-9);
  if (t.power_budget_w.has_value()) {
    EXPECT_LE(watts, *t.power_budget_w + 1e-6);
  }
}

void CompareWithBruteForce(bool shaped, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int feasible = 0;
  for (int i = 0; i < 100; ++i) {
    const CapacityTable t = RandomTable(rng, shaped);
    const double expected = BruteForceCost(t);
    const absl::StatusOr<IlpSolution> s = SolveCapacityIlp(t);
    if (std::isinf(expected)) {
      EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << "instance " << i << ": " << s.status();
      continue;
    }
    ++feasible;
    ASSERT_TRUE(s.ok()) << "instance " << i << ": " << s.status();
    EXPECT_EQ(s->status, IlpStatus::kOptimal) << "instance " << i;
    EXPECT_NEAR(s->total_cost, expected, 1e-6) << "instance " << i;
    ExpectConsistent(t, *s);
  }
  EXPECT_GE(feasible, 50) << "the generator should mostly make solvable tables";
}

TEST(PlanIlp, MelangeExampleCosts6Point70) {
  auto table = LoadMelangeJson(kMelangeExample);
  ASSERT_TRUE(table.ok()) << table.status();
  auto s = SolveCapacityIlp(*table);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->status, IlpStatus::kOptimal);
  EXPECT_NEAR(s->total_cost, 6.70, 1e-9);
  EXPECT_EQ(s->relative_gap, 0);
  ASSERT_EQ(table->options[0].name, "A10G");
  EXPECT_EQ(s->units, (std::vector<int64_t>{3, 1}));
  ExpectConsistent(*table, *s);
}

TEST(PlanIlp, MatchesBruteForcePlain) { CompareWithBruteForce(false, 11); }
TEST(PlanIlp, MatchesBruteForceNodesAvailabilityPower) { CompareWithBruteForce(true, 12); }

TEST(PlanIlp, WholeNodesArePaidFor) {
  CapacityTable t;
  t.rates = {10};
  GpuOption h100 = Option("H100", 0, {2});
  h100.gpus_per_replica = 2;
  h100.node = NodeShape{8, 80};
  t.options.push_back(h100);
  auto s = SolveCapacityIlp(t);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->units[0], 5);  // 10 GPUs of replicas: two 8-GPU nodes
  EXPECT_EQ(s->nodes[0], 2);
  EXPECT_EQ(s->gpus[0], 16);
  EXPECT_NEAR(s->total_cost, 160, 1e-9);
}

TEST(PlanIlp, ReplicasDoNotStraddleNodes) {
  // Four 3-GPU replicas in 4-GPU nodes take four nodes ($40), not 12 / 4 = 3 ($30): the plain option at
  // $35 is the cheaper.
  CapacityTable t;
  t.rates = {4};
  GpuOption packed = Option("packed", 0, {1});
  packed.gpus_per_replica = 3;
  packed.node = NodeShape{4, 10};
  t.options = {packed, Option("plain", 35, {4})};
  auto s = SolveCapacityIlp(t);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NEAR(s->total_cost, 35, 1e-9);
  EXPECT_EQ(s->units, (std::vector<int64_t>{0, 1}));
  t.options[1].price_per_gpu_hour = 45;
  s = SolveCapacityIlp(t);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NEAR(s->total_cost, 40, 1e-9);
  EXPECT_EQ(s->nodes, (std::vector<int64_t>{4, 0}));
}

TEST(PlanIlp, SameTableSameAnswer) {
  auto table = LoadMelangeJson(kMelangeExample);
  ASSERT_TRUE(table.ok());
  table->slice_factor = 4;
  auto a = SolveCapacityIlp(*table), b = SolveCapacityIlp(*table);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->slices, b->slices);
  EXPECT_EQ(a->units, b->units);
}

CapacityTable TwoBuckets() {
  CapacityTable t;
  t.rates = {3, 3};
  t.bucket_names = {"[0][0]", "[1][0]"};
  t.options.push_back(Option("A10G", 1, {2, 0}));
  t.options.push_back(Option("L4", 1, {1, 0}));
  return t;
}

TEST(PlanIlp, BucketNoOptionServesIsExplained) {
  auto s = SolveCapacityIlp(TwoBuckets());
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(Contains(std::string(s.status().message()), "bucket [1][0] has 3 req/s but no GPU option can serve it"));
}

TEST(PlanIlp, AvailabilityTooSmallIsExplained) {
  CapacityTable t = TwoBuckets();
  t.options[0].tputs[1] = 1;
  t.options[0].max_gpus = 1;
  t.options[1].max_gpus = 0;
  auto s = SolveCapacityIlp(t);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(Contains(std::string(s.status().message()), "bucket [0][0] has 3 req/s but all the GPUs available"));
  EXPECT_TRUE(Contains(std::string(s.status().message()), "A10G <= 1 GPUs"));
}

TEST(PlanIlp, PowerBudgetTooSmallIsExplained) {
  CapacityTable t = TwoBuckets();
  t.options[0].tputs[1] = 1;
  for (GpuOption& o : t.options) o.watts_per_unit = 300;
  t.power_budget_w = 500;
  auto s = SolveCapacityIlp(t);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(Contains(std::string(s.status().message()), "needs at least 1350 W"));
}

TEST(PlanIlp, InfeasibleOnlyTogetherIsReported) {
  // Each bucket fits the one available GPU alone; both together do not.
  CapacityTable t;
  t.rates = {0.6, 0.6};
  t.options.push_back(Option("A10G", 1, {1, 1}));
  t.options[0].max_gpus = 1;
  auto s = SolveCapacityIlp(t);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_TRUE(Contains(std::string(s.status().message()),
                       "no allocation serves the workload within the limits (A10G <= 1 GPUs)"));
}

TEST(PlanIlp, MalformedTableIsInvalidArgument) {
  CapacityTable t = TwoBuckets();
  t.options[1].tputs.pop_back();
  EXPECT_EQ(SolveCapacityIlp(t).status().code(), absl::StatusCode::kInvalidArgument);
  t = TwoBuckets();
  t.options[0].tputs[0] = -1;
  EXPECT_TRUE(Contains(std::string(SolveCapacityIlp(t).status().message()), "A10G's tput for bucket [0][0] is -1"));
}

struct BadJson {
  std::string text;
  std::string message;
};

TEST(PlanMelangeInput, ErrorsNameTheFieldPath) {
  const std::string gpus = R"("gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], [5, 2]]}})";
  const std::string rest = R"("total_request_rate": 30, "slice_factor": 1)";
  const std::string dist = R"("workload_distribution": [[0.2, 0.1], [0.5, 0.2]])";
  const BadJson cases[] = {
      {R"({"gpu_info": )", "m.json: not valid JSON: parse error at line 1, column 14"},
      {"[1, 2]", "m.json: (top level): expected an object"},
      {R"({"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], ["x", 2]]}}, )" + dist + ", " + rest + "}",
       R"(m.json: gpu_info.A10G.tputs[1][0]: expected a number >= 0, got "x")"},
      {R"({"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1, 3], [5, 2, 1]]}}, )" + dist + ", " + rest + "}",
       "m.json: gpu_info.A10G.tputs[0]: expected an array of 2 numbers, got [2,1,3]"},
      {R"({"gpu_info": {"A10G": {"cost": -1, "tputs": [[2, 1], [5, 2]]}}, )" + dist + ", " + rest + "}",
       "m.json: gpu_info.A10G.cost: expected a number >= 0, got -1"},
      {R"({"gpu_info": {"A10G": {"price": 1, "cost": 1, "tputs": [[2, 1], [5, 2]]}}, )" + dist + ", " + rest + "}",
       "m.json: gpu_info.A10G.price: unknown key"},
      {"{" + gpus + R"(, "workload_distribution": [[0.2, 0.1], [0.1, 0.1]], )" + rest + "}",
       "m.json: workload_distribution: the shares sum to 0.5; expected 1"},
      {"{" + gpus + R"(, "workload_distribution": [[0.5, 0.5], [0]], )" + rest + "}",
       "m.json: workload_distribution[1]: expected an array of 2 numbers, got [0]"},
      {"{" + gpus + ", " + dist + R"(, "total_request_rate": 30})", "m.json: slice_factor: missing"},
      {"{" + gpus + ", " + dist + R"(, "total_request_rate": 30, "slice_factor": 1.5})",
       "m.json: slice_factor: expected an integer in [1, 1024], got 1.5"},
      {"{" + gpus + ", " + dist + R"(, "total_request_rate": "30", "slice_factor": 1})",
       R"(m.json: total_request_rate: expected a number >= 0, got "30")"},
      {R"({"gpu_info": {}, )" + dist + ", " + rest + "}", "m.json: gpu_info: expected an object of GPU name"},
      {R"({"gpu_info": {"A10G": {"cost": 1, "tputs": [[2, 1], [5, 2]], "max_count": -2}}, )" + dist + ", " + rest + "}",
       "m.json: gpu_info.A10G.max_count: expected an integer >= 0, got -2"},
  };
  for (const BadJson& c : cases) {
    auto t = ParseMelangeJson(c.text, "m.json");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(std::string(t.status().message()), c.message)) << c.text;
  }
}

TEST(PlanMelangeInput, BucketsAreFlattenedRowMajor) {
  auto t = LoadMelangeJson(kMelangeExample);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->bucket_names, (std::vector<std::string>{"[0][0]", "[0][1]", "[1][0]", "[1][1]"}));
  ASSERT_EQ(t->rates.size(), 4u);
  EXPECT_NEAR(t->rates[2], 15, 1e-12);  // 0.5 × 30 req/s
  EXPECT_EQ(t->options[1].tputs, (std::vector<double>{20, 20, 40, 20}));
}

TEST(PlanCli, MelangeExampleJson) {
  auto r = testing::RunGpufleet("plan --melange-json " + kMelangeExample + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_NEAR(j["total_cost"].get<double>(), 6.70, 1e-9);
  EXPECT_EQ(j["counts"]["A10G"], 3);
  EXPECT_EQ(j["counts"]["A100-80GB"], 1);
  EXPECT_EQ(j["status"], "optimal");
  EXPECT_EQ(j["gap"], 0);
  EXPECT_EQ(testing::RunGpufleet("plan --melange-json " + kMelangeExample + " --json").output, r.output);
}

TEST(PlanCli, MelangeExampleTable) {
  auto r = testing::RunGpufleet("plan --melange-json " + kMelangeExample);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "A10G"));
  EXPECT_TRUE(Contains(r.output, "6.70"));
  EXPECT_TRUE(Contains(r.output, "optimal, gap 0.00%"));
}

TEST(PlanCli, BadInputExitsTwoWithTheMessage) {
  const std::string dir = testing::TempDir();
  const std::string bad = testing::WriteFile(
      dir, "bad.json",
      R"({"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], [5, "x"]]}}, "workload_distribution": [[0.2, 0.1], [0.5, 0.2]], "total_request_rate": 30, "slice_factor": 1})");
  auto r = testing::RunGpufleet("plan --melange-json " + bad, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "bad.json: gpu_info.A10G.tputs[1][1]: expected a number >= 0, got \"x\""));

  const std::string broken = testing::WriteFile(dir, "broken.json", "{\"gpu_info\": [");
  r = testing::RunGpufleet("plan --melange-json " + broken, true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "broken.json: not valid JSON"));

  r = testing::RunGpufleet("plan --melange-json " + dir + "/absent.json", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "absent.json: cannot read the file"));

  r = testing::RunGpufleet("plan", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "--melange-json"));
}

TEST(PlanCli, InfeasibleExitsTwo) {
  const std::string dir = testing::TempDir();
  const std::string file = testing::WriteFile(
      dir, "scarce.json",
      R"({"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[2, 1], [5, 2]], "max_count": 2}}, "workload_distribution": [[0.2, 0.1], [0.5, 0.2]], "total_request_rate": 30, "slice_factor": 1})");
  auto r = testing::RunGpufleet("plan --melange-json " + file, true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "scarce.json: bucket [0][0] has 6 req/s but all the GPUs available (A10G <= 2 GPUs)"));
}

}  // namespace
}  // namespace gpufleet
