// `gpufleet policies [--json] [KIND]`: every registered policy, kind by kind, with the scenario key that
// selects it and the parameters it reads (type, required or default, range), as its own factory reports
// them (PolicyRegistry::Describe), so the listing is the parser's own view and cannot go stale.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policies/admission/admission_policy.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/migration/migration_policy.h"
#include "policies/placement/placement_policy.h"
#include "policies/power/power_controller.h"
#include "policies/routing/router.h"
#include "policies/transfer/decode_target.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

struct KindListing {
  std::string kind;   // "routing", the name --kind takes
  std::string title;  // "routers"
  std::string key;    // scenario key
  nlohmann::ordered_json policies = nlohmann::ordered_json::array();
};

template <class Interface>
absl::Status Collect(const char* kind, const char* title, const char* key, std::vector<KindListing>* out) {
  KindListing k{kind, title, key};
  const auto& registry = PolicyRegistry<Interface>::Get();
  for (const auto& [name, e] : registry.entries()) {
    absl::StatusOr<std::vector<ParamInfo>> params = registry.Describe(name);
    if (!params.ok()) return absl::InternalError(absl::StrCat(kind, " policy '", name, "' cannot describe its parameters: ", params.status().message()));
    nlohmann::ordered_json p = nlohmann::ordered_json::array();
    for (const ParamInfo& i : *params) {
      nlohmann::ordered_json j = {{"name", i.name}, {"type", i.type}, {"required", i.required}};
      if (!i.required) j["default"] = i.default_value;
      if (!i.range.empty()) j["range"] = i.range;
      p.push_back(std::move(j));
    }
    k.policies.push_back({{"name", name}, {"description", e.description}, {"params", std::move(p)}});
  }
  out->push_back(std::move(k));
  return absl::OkStatus();
}

void PrintText(const KindListing& k) {
  std::printf("%s (scenario key: %s.type):\n", k.title.c_str(), k.key.c_str());
  for (const auto& p : k.policies) {
    std::printf("  %-26s %s\n", p["name"].get<std::string>().c_str(), p["description"].get<std::string>().c_str());
    for (const auto& a : p["params"]) {
      std::string detail = a["type"].get<std::string>();
      if (a.contains("range")) absl::StrAppend(&detail, " in ", a["range"].get<std::string>());
      absl::StrAppend(&detail, a["required"].get<bool>() ? ", required"
                                                         : absl::StrCat(", default ", a["default"].get<std::string>()));
      std::printf("  %-26s   %-22s %s\n", "", a["name"].get<std::string>().c_str(), detail.c_str());
    }
  }
}

}  // namespace

std::function<int()> AddPoliciesCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "policies",
      "List the registered policies of every kind (routing, batching, power, placement, admission, "
      "migration, transfer) with the parameters each reads: type, default or required, range");
  auto json = std::make_shared<bool>(false);
  auto kind = std::make_shared<std::string>();
  cmd->add_flag("--json", *json, "Print one JSON document (kinds -> policies -> params)");
  cmd->add_option("kind", *kind, "Only this kind")
      ->check(CLI::IsMember({"routing", "batching", "power", "placement", "admission", "migration", "transfer"}));
  return [json, kind]() -> int {
    std::vector<KindListing> kinds;
    for (absl::Status st : {Collect<Router>("routing", "routers", "router", &kinds),
                            Collect<BatchScheduler>("batching", "batch schedulers", "deployment[].scheduler", &kinds),
                            Collect<PowerController>("power", "power controllers", "power.controller", &kinds),
                            Collect<PlacementPolicy>("placement", "placement policies", "placement", &kinds),
                            Collect<AdmissionPolicy>("admission", "admission", "admission", &kinds),
                            Collect<MigrationPolicy>("migration", "live migration", "migration", &kinds),
                            Collect<DecodeTarget>("transfer", "decode targets", "disaggregation.decode_target", &kinds)}) {
      if (!st.ok()) return ReportError(st);
    }
    std::erase_if(kinds, [&](const KindListing& k) { return !kind->empty() && k.kind != *kind; });
    if (*json) {
      nlohmann::ordered_json doc = nlohmann::ordered_json::object();
      for (const KindListing& k : kinds) doc[k.kind] = {{"scenario_key", k.key + ".type"}, {"policies", k.policies}};
      std::printf("%s\n", doc.dump(2).c_str());
      return 0;
    }
    for (size_t i = 0; i < kinds.size(); ++i) {
      if (i > 0) std::printf("\n");
      PrintText(kinds[i]);
    }
    return 0;
  };
}

}  // namespace gpufleet
