// Scenario overrides (--set PATH=VALUE): parsing, application to the tree, errors that name the flag, the
// resolved text stored with a run, and the CLI end to end.
#include "sim/scenario/scenario_overrides.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

::testing::AssertionResult Starts(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

constexpr const char* kBase = R"(# a comment the resolved text drops
seed: 1
cluster:
  nodes: [{type: DGX-H100, count: 1}]
model: Llama-2-7B
deployment:
  - {gpu: H100-SXM-80GB, replicas: 2, scheduler: sarathi}
router: least_outstanding_tokens
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: fixed, value: 256}
    output_tokens: {dist: fixed, value: 32}
  max_requests: 40
)";

ScenarioOverride Set(const std::string& text) {
  auto o = ParseOverride(text, "--set " + text);
  EXPECT_TRUE(o.ok()) << o.status();
  return o.ok() ? *o : ScenarioOverride{};
}

absl::StatusOr<Scenario> LoadWith(const std::vector<std::string>& sets, const std::string& text = kBase) {
  std::vector<ScenarioOverride> overrides;
  for (const auto& s : sets) overrides.push_back(Set(s));
  return LoadScenarioFromString(text, "s.yaml", ".", testing::RealCatalog(), overrides);
}

std::string ErrorOf(const absl::StatusOr<Scenario>& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  return std::string(s.status().message());
}

YAML::Node Applied(const std::vector<std::string>& sets) {
  std::vector<ScenarioOverride> overrides;
  for (const auto& s : sets) overrides.push_back(Set(s));
  auto text = ApplyOverrides(kBase, "s.yaml", overrides);
  EXPECT_TRUE(text.ok()) << text.status();
  return YAML::Load(text.ok() ? *text : "");
}

std::string ApplyError(const std::string& set) {
  auto text = ApplyOverrides(kBase, "s.yaml", {Set(set)});
  EXPECT_FALSE(text.ok()) << set;
  return std::string(text.status().message());
}

TEST(ScenarioOverrides, ParsesPathAndValue) {
  auto o = ParseOverride("deployment[0].replicas=6", "--set deployment[0].replicas=6");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->path, "deployment[0].replicas");
  EXPECT_EQ(o->value, "6");
  EXPECT_EQ(o->origin, "--set deployment[0].replicas=6");
  // The first '=' splits; the value keeps the rest, and a quoted key may hold dots.
  auto name = ParseOverride("name=a=b", "x");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->value, "a=b");
  auto quoted = ParseOverride("prices.node_usd_per_hour[\"aws-p5.48xlarge\"]=50", "x");
  ASSERT_TRUE(quoted.ok()) << quoted.status();
  EXPECT_EQ(quoted->path, "prices.node_usd_per_hour[\"aws-p5.48xlarge\"]");
  EXPECT_TRUE(ParseOverride("horizon_s=", "x").ok());  // an empty value is a null: the key counts as absent
}

TEST(ScenarioOverrides, MalformedFlagsNameTheirOrigin) {
  auto no_eq = ParseOverride("deployment[0].replicas", "--set deployment[0].replicas");
  ASSERT_FALSE(no_eq.ok());
  EXPECT_EQ(no_eq.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Starts(std::string(no_eq.status().message()), "--set deployment[0].replicas: "));
  EXPECT_TRUE(Contains(std::string(no_eq.status().message()), "expected PATH=VALUE"));

  auto empty = ParseOverride("=6", "--set =6");
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(Contains(std::string(empty.status().message()), "--set =6: the path is empty"));

  for (const char* bad : {"deployment[x].replicas=1", "deployment[0.replicas=1", "deployment[-1]=1", "deployment[]=1",
                          "deployment[0]replicas=1", "deployment..replicas=1", "deployment.=1", "a]=1"}) {
    auto o = ParseOverride(bad, std::string("--set ") + bad);
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_TRUE(Starts(std::string(o.status().message()), std::string("--set ") + bad + ": ")) << bad;
    EXPECT_TRUE(Contains(std::string(o.status().message()), "; expected ")) << bad;
  }
}

TEST(ScenarioOverrides, AppliesScalarsMapsListItemsAndNewKeys) {
  YAML::Node root = Applied({"deployment[0].replicas=6", "router=round_robin", "cluster.nodes[0].count=3",
                             "workload.rate_multiplier=2",
                             "deployment[0].scheduler={type: vllm, watermark: 0.05}"});
  EXPECT_EQ(root["deployment"][0]["replicas"].as<int>(), 6);
  EXPECT_EQ(root["deployment"][0]["gpu"].as<std::string>(), "H100-SXM-80GB");  // siblings untouched
  EXPECT_EQ(root["router"].as<std::string>(), "round_robin");
  EXPECT_EQ(root["cluster"]["nodes"][0]["count"].as<int>(), 3);
  EXPECT_EQ(root["workload"]["rate_multiplier"].as<double>(), 2.0);
  EXPECT_EQ(root["deployment"][0]["scheduler"]["watermark"].as<double>(), 0.05);

  // A whole list item, a whole list, then a field of the item just set: overrides apply in order.
  root = Applied({"deployment[0]={gpu: A100-SXM-80GB, replicas: 2}", "deployment[0].tensor_parallel=2",
                  "cluster.nodes=[{type: DGX-A100}]"});
  EXPECT_EQ(root["deployment"][0]["gpu"].as<std::string>(), "A100-SXM-80GB");
  EXPECT_EQ(root["deployment"][0]["tensor_parallel"].as<int>(), 2);
  EXPECT_FALSE(root["deployment"][0]["scheduler"].IsDefined());
  EXPECT_EQ(root["cluster"]["nodes"][0]["type"].as<std::string>(), "DGX-A100");
}

TEST(ScenarioOverrides, BadPathsAndValuesNameTheFlag) {
  std::string e = ApplyError("deployment[3].replicas=1");
  EXPECT_TRUE(Starts(e, "--set deployment[3].replicas=1: deployment has 1 item(s), so [3] is out of range"));
  EXPECT_TRUE(Contains(e, "expected an index in [0, 0]"));

  e = ApplyError("workload.synthetc.rate_rps=1");
  EXPECT_TRUE(Starts(e, "--set workload.synthetc.rate_rps=1: workload has no key 'synthetc' (did you mean 'synthetic'?)"));

  e = ApplyError("slos.ttft={target_s: 1}");
  EXPECT_TRUE(Contains(e, "the scenario has no key 'slos'"));

  e = ApplyError("router.type=round_robin");  // router is written as a bare name here
  EXPECT_TRUE(Starts(e, "--set router.type=round_robin: router is 'least_outstanding_tokens', not a mapping"));
  EXPECT_TRUE(Contains(e, "--set router=VALUE"));

  e = ApplyError("deployment.replicas=1");
  EXPECT_TRUE(Contains(e, "deployment is a list, not a mapping"));

  e = ApplyError("deployment[0]={gpu: H100");
  EXPECT_TRUE(Starts(e, "--set deployment[0]={gpu: H100: the value is not valid YAML"));
}

TEST(ScenarioOverrides, LoaderErrorsInOverriddenValuesNameTheFlag) {
  // A new key the schema does not know: the loader's own did-you-mean, located at the flag.
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"deployment[0].replicass=6"})),
                     "--set deployment[0].replicass=6: unknown key 'replicass' in deployment[0] (did you mean "
                     "'replicas'?)"));
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"deployment[0].replicas=0"})),
                     "--set deployment[0].replicas=0: deployment[0].replicas is 0, out of range; expected an integer"));
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"router=round_robbin"})),
                     "--set router=round_robbin: router.type 'round_robbin' is not a known policy (did you mean "
                     "'round_robin'?)"));
  // Inside a flow value, and the second of two overrides.
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"seed=3", "deployment[0]={gpu: H100-SXM-80GB, tensor_parallel: 3}"})),
                     "--set deployment[0]={gpu: H100-SXM-80GB, tensor_parallel: 3}: deployment[0].tensor_parallel is 3"));
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"workload.rate_multiplier=fast"})),
                     "--set workload.rate_multiplier=fast: workload.rate_multiplier is 'fast'; expected a number"));
  // An error at a node of the file keeps its file:line:col and says which overrides were applied.
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({"deployment[0].replicas=9"})),
                     "s.yaml:7:5 (with --set deployment[0].replicas=9): deployment 'group0' asks for 9 replicas"));
  // Without overrides, messages are exactly as before.
  EXPECT_TRUE(Starts(ErrorOf(LoadWith({}, std::string(kBase) + "typo: 1\n")), "s.yaml:15:1: unknown key 'typo'"));
}

TEST(ScenarioOverrides, StoredTextIsTheResolvedScenario) {
  auto plain = LoadWith({});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->text, kBase);  // byte-identical without overrides

  auto s = LoadWith({"deployment[0].replicas=3", "workload.rate_multiplier=2", "router={type: round_robin}",
                     "cluster=auto"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->deployment[0].replicas, 3);
  EXPECT_EQ(s->workload.rate_multiplier, 2.0);
  EXPECT_EQ(s->router.type, "round_robin");
  EXPECT_TRUE(s->cluster_auto);
  EXPECT_TRUE(Contains(s->text, "replicas: 3"));
  EXPECT_TRUE(Contains(s->text, "rate_multiplier: 2"));
  EXPECT_TRUE(Contains(s->text, "cluster: auto"));

  // The stored text alone reproduces the scenario.
  auto again = LoadScenarioFromString(s->text, "stored.yaml", ".", testing::RealCatalog());
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << s->text;
  EXPECT_EQ(again->text, s->text);
  EXPECT_EQ(again->deployment[0].replicas, 3);
  EXPECT_EQ(again->deployment[0].scheduler.type, "sarathi");
  EXPECT_EQ(again->workload.rate_multiplier, 2.0);
  EXPECT_EQ(again->workload.max_requests, 40);
  EXPECT_EQ(again->router.type, "round_robin");
  ASSERT_EQ(again->cluster.size(), s->cluster.size());
  EXPECT_EQ(again->cluster[0].node, s->cluster[0].node);
  EXPECT_EQ(again->cluster[0].count, s->cluster[0].count);
}

TEST(ScenarioOverrides, RelativePathsResolveAgainstTheFilesFolder) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "trace.csv", "arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,10,5\n");
  const std::string path = testing::WriteFile(dir, "s.yaml", R"(cluster: {nodes: [{type: DGX-H100}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB}]
workload: {trace: {path: other.csv, format: native}}
)");
  auto s = LoadScenario(path, testing::RealCatalog(), {Set("workload.trace.path=trace.csv")});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->workload.trace_path, dir + "/trace.csv");
  EXPECT_TRUE(Contains(s->text, "path: trace.csv"));  // stored as written
}

TEST(ScenarioOverrides, CliSetIsValidatedAndChangesTheRun) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "s.yaml", kBase);

  auto bad = testing::RunGpufleet("simulate " + path + " --check --set deployment[0].replicas=0", true);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(Contains(bad.output, "gpufleet: error: --set deployment[0].replicas=0: deployment[0].replicas is 0"));

  auto typo = testing::RunGpufleet("simulate " + path + " --check --set 'deployment[0].replicass=1'", true);
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_TRUE(Contains(typo.output, "--set deployment[0].replicass=1: unknown key 'replicass'"));

  auto malformed = testing::RunGpufleet("simulate " + path + " --check --set replicas", true);
  EXPECT_EQ(malformed.exit_code, 2) << malformed.output;
  EXPECT_TRUE(Contains(malformed.output, "--set replicas: 'replicas' has no '='"));

  auto base = testing::RunGpufleet("simulate " + path + " --json");
  ASSERT_EQ(base.exit_code, 0) << base.output;
  // --set before the scenario: each --set takes exactly one argument.
  auto changed = testing::RunGpufleet("simulate --set deployment[0].replicas=1 --set 'router=round_robin' " + path +
                                      " --json");
  ASSERT_EQ(changed.exit_code, 0) << changed.output;
  const auto a = nlohmann::json::parse(base.output), b = nlohmann::json::parse(changed.output);
  EXPECT_EQ(a["replicas"].size(), 2u);
  EXPECT_EQ(b["replicas"].size(), 1u);
  EXPECT_NE(a["e2e_p99_s"], b["e2e_p99_s"]);
}

}  // namespace
}  // namespace gpufleet
