// Reading a plan file (see plan_spec.h).
#include "orchestration/plan/plan_spec.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

// A list of integers (or one integer) at `key`, each in [lo, hi], no repeats.
absl::Status IntList(MapReader& r, const char* key, int64_t lo, int64_t hi, std::vector<int64_t>* out) {
  YAML::Node n = r.Raw(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  std::vector<YAML::Node> items;
  if (n.IsSequence()) {
    for (const auto& i : n) items.push_back(i);
  } else {
    items.push_back(n);
  }
  if (items.empty()) return YamlError(r.file(), n, absl::StrCat(r.what(), ".", key, " is empty"), "a list of integers");
  out->clear();
  std::set<int64_t> seen;
  for (const YAML::Node& i : items) {
    int64_t v = 0;
    if (!i.IsScalar() || !YAML::convert<int64_t>::decode(i, v) || v < lo || v > hi) {
      return YamlError(r.file(), i, absl::StrCat(r.what(), ".", key, " has '", i.IsScalar() ? i.Scalar() : "a non-scalar", "'"),
                       absl::StrCat("integers in [", lo, ", ", hi, "]"));
    }
    if (!seen.insert(v).second) return YamlError(r.file(), i, absl::StrCat(r.what(), ".", key, " repeats ", v), "distinct values");
    out->push_back(v);
  }
  return absl::OkStatus();
}

absl::Status Coming(MapReader& r, const char* key, const char* what) {
  if (!r.Has(key)) {
    r.Raw(key);
    return absl::OkStatus();
  }
  return r.ErrorAt(key, absl::StrCat(key, " is not supported yet: ", what),
                   "a plan without it (docs/planning.md lists what is coming)");
}

}  // namespace

const char* PlanObjectiveName(PlanObjective o) {
  switch (o) {
    case PlanObjective::kCostPerHour: return "cost_per_hour";
    case PlanObjective::kCostPerMtok: return "cost_per_mtok";
    case PlanObjective::kGoodputPerDollar: return "goodput_per_dollar";
  }
  return "?";
}

absl::StatusOr<PlanSpec> ParsePlanSpec(const std::string& text, const std::string& name) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlString(text, name));
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(name, root, "plan"));
  GF_RETURN_IF_ERROR(r.ExpectOnly({"name", "base", "set", "rates", "candidates", "objective", "seeds", "search",
                                   "buckets", "frontier", "power", "disaggregation"}));
  PlanSpec spec;
  spec.file = name;
  spec.text = text;
  spec.name = std::filesystem::path(name).stem().string();
  GF_RETURN_IF_ERROR(r.Opt("name", &spec.name));
  GF_RETURN_IF_ERROR(r.Get("base", &spec.base));
  spec.base = (std::filesystem::path(name).parent_path() / spec.base).lexically_normal().string();
  const YAML::Node set = r.Raw("set");
  GF_ASSIGN_OR_RETURN(spec.fixed, OverridesFromSet(name, set));
  if (set.IsMap()) {
    for (const auto& kv : set) {
      const std::string path = kv.first.Scalar();
      if (path == "deployment" || path.rfind("deployment[", 0) == 0 || path == "cluster" || path.rfind("cluster.", 0) == 0) {
        return YamlError(name, kv.first, absl::StrCat("set changes ", path, ", which the plan decides"),
                         "overrides of the workload, SLOs, router, prices or serving stack");
      }
    }
  }
  if (YAML::Node rates = r.Raw("rates"); rates.IsDefined() && !rates.IsNull()) {
    if (!rates.IsSequence() || rates.size() == 0) return YamlError(name, rates, "rates is not a list", "rates: [1, 2, 4]");
    for (const YAML::Node& x : rates) {
      double v = 0;
      if (!x.IsScalar() || !YAML::convert<double>::decode(x, v) || !(v > 0) || v > 1e6) {
        return YamlError(name, x, "a rate multiplier is not a number in (0, 1e6]", "rates: [1, 2, 4] (multiples of the base workload's rate)");
      }
      spec.rates.push_back(v);
    }
  } else {
    spec.rates = {1.0};
  }
  if (!r.Has("candidates")) return r.Error("candidates is missing", "candidates: {gpus: [...], tensor_parallel: [...]}");
  {
    GF_ASSIGN_OR_RETURN(MapReader c, MapReader::Make(name, r.Raw("candidates"), "candidates"));
    GF_RETURN_IF_ERROR(c.ExpectOnly({"gpus", "tensor_parallel", "max_batched_tokens", "scheduler", "max_batch_size",
                                     "allow_mixes", "routers"}));
    YAML::Node gpus = c.Raw("gpus");
    if (!gpus.IsDefined() || !gpus.IsSequence() || gpus.size() == 0) {
      return YamlError(name, gpus.IsDefined() ? gpus : c.node(), "candidates.gpus is missing or empty",
                       "a list of GPU names or {gpu, price_usd_per_hour, max_gpus}");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < gpus.size(); ++i) {
      PlanGpuCandidate g;
      if (gpus[i].IsScalar()) {
        g.gpu = gpus[i].Scalar();
      } else {
        GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(name, gpus[i], absl::StrCat("candidates.gpus[", i, "]")));
        GF_RETURN_IF_ERROR(m.Get("gpu", &g.gpu));
        if (m.Has("price_usd_per_hour")) {
          double p = 0;
          GF_RETURN_IF_ERROR(m.Get("price_usd_per_hour", &p, 0, 1e6));
          g.price_usd_per_hour = p;
        }
        if (m.Has("max_gpus")) {
          int64_t n = 0;
          GF_RETURN_IF_ERROR(m.Get("max_gpus", &n, 1, 1000000));
          g.max_gpus = n;
        }
        GF_RETURN_IF_ERROR(m.Finish());
      }
      if (!seen.insert(g.gpu).second) return YamlError(name, gpus[i], absl::StrCat("GPU ", g.gpu, " is listed twice"), "each GPU once");
      spec.gpus.push_back(std::move(g));
    }
    spec.tensor_parallel = {1};
    GF_RETURN_IF_ERROR(IntList(c, "tensor_parallel", 1, 64, &spec.tensor_parallel));
    for (int64_t tp : spec.tensor_parallel) {
      if ((tp & (tp - 1)) != 0) return c.ErrorAt("tensor_parallel", absl::StrCat("tensor_parallel ", tp, " is not a power of two"), "1, 2, 4, 8, ...");
    }
    GF_RETURN_IF_ERROR(IntList(c, "max_batched_tokens", 1, 1 << 24, &spec.max_batched_tokens));
    if (YAML::Node s = c.Raw("scheduler"); s.IsDefined() && !s.IsNull()) {
      if (s.IsScalar()) {
        spec.schedulers = {s.Scalar()};
      } else if (s.IsSequence() && s.size() > 0) {
        for (const auto& x : s) spec.schedulers.push_back(x.Scalar());
      } else {
        return YamlError(name, s, "candidates.scheduler is not a name or a list of names", "sarathi, vllm");
      }
    } else {
      spec.schedulers = {"sarathi"};
    }
    GF_RETURN_IF_ERROR(c.Opt("max_batch_size", &spec.max_batch_size, 1, 1 << 20));
    GF_RETURN_IF_ERROR(c.Opt("allow_mixes", &spec.mixes));
    if (YAML::Node rt = c.Raw("routers"); rt.IsDefined() && !rt.IsNull()) {
      if (!rt.IsSequence() || rt.size() == 0) return YamlError(name, rt, "candidates.routers is not a list of router names", "routers: [least_outstanding_tokens, round_robin]");
      for (const auto& x : rt) {
        if (!x.IsScalar() || x.Scalar().empty()) return YamlError(name, x, "a router is not a name", "a router type (`gpufleet policies`)");
        if (x.Scalar() == "size_buckets") return YamlError(name, x, "size_buckets is the router of the bucket plan, not a candidate", "`buckets:` to plan with it");
        spec.routers.push_back(x.Scalar());
      }
    }
    GF_RETURN_IF_ERROR(c.Finish());
  }
  std::string objective = "cost_per_hour";
  GF_RETURN_IF_ERROR(r.OptEnum("objective", {"cost_per_hour", "cost_per_mtok", "goodput_per_dollar"}, &objective));
  spec.objective = objective == "cost_per_mtok"        ? PlanObjective::kCostPerMtok
                   : objective == "goodput_per_dollar" ? PlanObjective::kGoodputPerDollar
                                                       : PlanObjective::kCostPerHour;
  GF_RETURN_IF_ERROR(IntList(r, "seeds", 0, std::numeric_limits<int64_t>::max(), &spec.seeds));
  if (r.Has("search")) {
    GF_ASSIGN_OR_RETURN(MapReader s, MapReader::Make(name, r.Raw("search"), "search"));
    GF_RETURN_IF_ERROR(s.Opt("max_simulations", &spec.max_simulations, 1, 10000000));
    GF_RETURN_IF_ERROR(s.Opt("time_limit_s", &spec.time_limit_s, 1, 1e7));
    GF_RETURN_IF_ERROR(s.Opt("tolerance", &spec.tolerance, 0.005, 1));
    GF_RETURN_IF_ERROR(s.Opt("max_repairs", &spec.max_repairs, 0, 10000));
    GF_RETURN_IF_ERROR(s.Finish());
  } else {
    r.Raw("search");
  }
  if (r.Has("buckets")) {
    GF_ASSIGN_OR_RETURN(MapReader b, MapReader::Make(name, r.Raw("buckets"), "buckets"));
    for (const char* key : {"prompt_tokens", "output_tokens"}) {
      std::vector<int64_t>* edges = std::string(key) == "prompt_tokens" ? &spec.bucket_prompt_edges : &spec.bucket_output_edges;
      GF_RETURN_IF_ERROR(IntList(b, key, 1, 1 << 24, edges));
      for (size_t i = 1; i < edges->size(); ++i) {
        if ((*edges)[i] <= (*edges)[i - 1]) return b.ErrorAt(key, absl::StrCat("buckets.", key, " edges are not ascending"), "e.g. [512, 2048]");
      }
    }
    if (!spec.has_buckets()) return r.ErrorAt("buckets", "buckets has no edges", "buckets: {prompt_tokens: [512, 2048], output_tokens: [256]}");
    if ((spec.bucket_prompt_edges.size() + 1) * (spec.bucket_output_edges.size() + 1) > 64) {
      return r.ErrorAt("buckets", "buckets makes more than 64 buckets", "fewer edges (each bucket is searched for every candidate)");
    }
    GF_RETURN_IF_ERROR(b.Finish());
  } else {
    r.Raw("buckets");
  }
  if (r.Has("frontier")) {
    GF_ASSIGN_OR_RETURN(MapReader f, MapReader::Make(name, r.Raw("frontier"), "frontier"));
    GF_RETURN_IF_ERROR(f.GetEnum("slo", {"ttft", "tbt", "e2e"}, &spec.frontier_slo));
    GF_RETURN_IF_ERROR(f.Get("targets_s", &spec.frontier_targets_s, 1e-6, 1e6));
    if (spec.frontier_targets_s.empty() || spec.frontier_targets_s.size() > 16) {
      return f.ErrorAt("targets_s", "frontier.targets_s needs 1 to 16 targets", "targets_s: [1, 2, 4]");
    }
    GF_RETURN_IF_ERROR(f.Finish());
  } else {
    r.Raw("frontier");
  }
  GF_RETURN_IF_ERROR(Coming(r, "power", "power caps and budgets come with the power model (issue 12)"));
  GF_RETURN_IF_ERROR(Coming(r, "disaggregation", "prefill/decode pools come with the network fabric (issue 13)"));
  GF_RETURN_IF_ERROR(r.Finish());
  return spec;
}

absl::StatusOr<PlanSpec> LoadPlanSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the plan file; expected a readable YAML file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParsePlanSpec(text.str(), path);
}

}  // namespace gpufleet
