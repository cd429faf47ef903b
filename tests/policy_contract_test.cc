// The plug-in contract every policy kind shares (policies/policy_registry.h): each registered policy
// lists its parameters through its own factory (PolicyRegistry::Describe), and the listing is the
// parser's: every listed default is accepted back, a key it does not list is refused at its location, and
// `gpufleet policies --json` prints it.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "policies/admission/admission_policy.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/migration/migration_policy.h"
#include "policies/placement/placement_policy.h"
#include "policies/power/power_controller.h"
#include "policies/routing/router.h"
#include "policies/transfer/decode_target.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

// True when a numeric parameter's default lies outside its listed range "[lo, hi]".
bool OutsideRange(const ParamInfo& p) {
  double lo = 0, hi = 0, v = 0;
  if (p.range.empty() || std::sscanf(p.range.c_str(), "[%lf, %lf]", &lo, &hi) != 2) return false;
  if (std::sscanf(p.default_value.c_str(), "%lf", &v) != 1) return false;
  return v < lo || v > hi;
}

// Every policy of one kind: describes itself; with no required parameter, it is built from each listed
// default written out explicitly (so a listed name or default the factory does not accept fails), and a
// key it does not list is an unknown-key error.
template <class Interface>
void CheckKind(const char* kind) {
  const auto& registry = PolicyRegistry<Interface>::Get();
  ASSERT_FALSE(registry.entries().empty()) << kind;
  for (const auto& [name, entry] : registry.entries()) {
    SCOPED_TRACE(absl::StrCat(kind, " ", name));
    EXPECT_FALSE(entry.description.empty());
    absl::StatusOr<std::vector<ParamInfo>> params = registry.Describe(name);
    ASSERT_TRUE(params.ok()) << params.status();
    std::set<std::string> seen;
    bool required = false;
    for (const ParamInfo& p : *params) {
      EXPECT_TRUE(seen.insert(p.name).second) << "listed twice: " << p.name;
      EXPECT_FALSE(p.type.empty()) << p.name;
      required |= p.required;
    }
    if (required) continue;
    for (const ParamInfo& p : *params) {
      if (p.type.rfind("list", 0) == 0 || p.type.find("->") != std::string::npos || p.type == "YAML value" ||
          p.type.find("token counts") != std::string::npos) {
        continue;  // structured values have no scalar default to write back
      }
      if (OutsideRange(p)) continue;  // a default outside the range means "unset" (static: cap_w 0)
      PolicyConfig cfg;
      cfg.type = name;
      cfg.file = "contract.yaml";
      cfg.node = YAML::Load(absl::StrCat("{type: ", name, ", ", p.name, ": '", p.default_value, "'}"));
      auto policy = registry.Create(cfg);
      EXPECT_TRUE(policy.ok()) << p.name << " = " << p.default_value << ": " << policy.status();
    }
    PolicyConfig bad;
    bad.type = name;
    bad.file = "contract.yaml";
    bad.node = YAML::Load(absl::StrCat("{type: ", name, ", no_such_param: 1}"));
    auto policy = registry.Create(bad);
    ASSERT_FALSE(policy.ok());
    EXPECT_NE(policy.status().message().find("contract.yaml:1:"), std::string::npos) << policy.status();
    EXPECT_NE(policy.status().message().find("unknown key 'no_such_param'"), std::string::npos) << policy.status();
  }
}

TEST(PolicyContract, EveryPolicyListsTheParametersItsParserAccepts) {
  CheckKind<Router>("routing");
  CheckKind<BatchScheduler>("batching");
  CheckKind<PowerController>("power");
  CheckKind<PlacementPolicy>("placement");
  CheckKind<AdmissionPolicy>("admission");
  CheckKind<MigrationPolicy>("migration");
  CheckKind<DecodeTarget>("transfer");
}

TEST(PolicyContract, DescribeRecordsTypesDefaultsAndRanges) {
  auto params = AdmissionRegistry::Get().Describe("token_bucket");
  ASSERT_TRUE(params.ok()) << params.status();
  ASSERT_EQ(params->size(), 3u);
  EXPECT_EQ((*params)[0].name, "rate");
  EXPECT_EQ((*params)[0].type, "number");
  EXPECT_TRUE((*params)[0].required);
  EXPECT_EQ((*params)[2].name, "cost");
  EXPECT_EQ((*params)[2].type, "one of: requests, tokens");
  EXPECT_FALSE((*params)[2].required);
  EXPECT_EQ((*params)[2].default_value, "requests");
  auto p2c = RouterRegistry::Get().Describe("power_of_two");
  ASSERT_TRUE(p2c.ok());
  ASSERT_EQ(p2c->size(), 1u);
  EXPECT_EQ((*p2c)[0].type, "integer");
  EXPECT_EQ((*p2c)[0].default_value, "2");
  EXPECT_EQ((*p2c)[0].range, "[2, 8]");
}

TEST(PolicyContract, PoliciesJsonListsEveryKindWithParameters) {
  auto r = testing::RunGpufleet("policies --json");
  ASSERT_EQ(r.exit_code, 0);
  const nlohmann::json j = nlohmann::json::parse(r.output);
  for (const char* kind : {"routing", "batching", "power", "placement", "admission", "migration", "transfer"}) {
    ASSERT_TRUE(j.contains(kind)) << kind;
    EXPECT_FALSE(j[kind]["policies"].empty()) << kind;
  }
  bool found = false;
  for (const auto& p : j["routing"]["policies"]) {
    if (p["name"] != "power_of_two") continue;
    found = true;
    ASSERT_EQ(p["params"].size(), 1u);
    EXPECT_EQ(p["params"][0]["name"], "choices");
    EXPECT_EQ(p["params"][0]["default"], "2");
  }
  EXPECT_TRUE(found);
  auto one = testing::RunGpufleet("policies admission");
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(one.output.find("token_bucket"), std::string::npos);
  EXPECT_EQ(one.output.find("least_outstanding_tokens"), std::string::npos);
}

}  // namespace
}  // namespace gpufleet
