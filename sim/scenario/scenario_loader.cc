// Scenario YAML parsing and validation (see scenario_loader.h and docs/scenario.md).
#include "sim/scenario/scenario_loader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "models/calibration/measurements.h"
#include "models/calibration/model_names.h"
#include "models/calibration/serving_stacks.h"
#include "models/power_params.h"
#include "policies/admission/admission_policy.h"
#include "policies/migration/migration_policy.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/power/power_controller.h"
#include "policies/routing/router.h"
#include "policies/transfer/decode_target.h"
#include "sim/platform/placement.h"
#include "sim/platform/topology.h"
#include "sim/scenario/cluster_sizing.h"
#include "sim/scenario/fabric_section.h"
#include "sim/scenario/workload_section.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"
#include "traces/workload_stream.h"

namespace gpufleet {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class Loader {
 public:
  Loader(std::string file, std::string base_dir, const Catalog& catalog)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), catalog_(catalog) {}

  absl::Status Load(const YAML::Node& root, Scenario* s) {
    GF_ASSIGN_OR_RETURN(MapReader top, MapReader::Make(file_, root, "scenario"));
    GF_RETURN_IF_ERROR(top.ExpectOnly({"name", "seed", "horizon_s", "cluster", "model", "perf_model", "serving_stack",
                                       "deployment", "router", "workload", "slos", "prices", "limits", "gpu_power", "power",
                                       "disaggregation", "fabric", "placement", "admission", "migration"}));
    GF_RETURN_IF_ERROR(top.Opt("name", &s->name));
    int64_t seed = 0;
    GF_RETURN_IF_ERROR(top.Opt("seed", &seed, 0));
    s->seed = static_cast<uint64_t>(seed);
    s->horizon_s = kInf;
    GF_RETURN_IF_ERROR(top.Opt("horizon_s", &s->horizon_s, 1e-9));
    GF_RETURN_IF_ERROR(Limits(top, s));
    GF_RETURN_IF_ERROR(Cluster(top, s));
    GF_RETURN_IF_ERROR(Model(top, s));
    GF_RETURN_IF_ERROR(PerfModel(top, s));
    GF_RETURN_IF_ERROR(Deployment(top, s));
    GF_RETURN_IF_ERROR(Profiles(top, s));
    GF_RETURN_IF_ERROR(GpuPower(top, s));
    GF_RETURN_IF_ERROR(Router(top, s));
    s->admission = PolicyAt(top, "admission", "admission", "none");
    GF_RETURN_IF_ERROR(AdmissionRegistry::Get().Create(s->admission).status());  // bound once the SLOs are read
    s->migration = PolicyAt(top, "migration", "migration", "none");
    {
      GF_ASSIGN_OR_RETURN(std::unique_ptr<MigrationPolicy> migration, MigrationRegistry::Get().Create(s->migration));
      GF_RETURN_IF_ERROR(migration->Bind(s->binding()));
    }
    GF_RETURN_IF_ERROR(Disaggregation(top, s));
    GF_RETURN_IF_ERROR(ReadWorkloadSection(top, file_, base_dir_, s));
    GF_RETURN_IF_ERROR(Slos(top, s));
    {
      // Bound after the SLOs are read: a policy may steer by their targets (slo_shed needs one).
      GF_ASSIGN_OR_RETURN(std::unique_ptr<AdmissionPolicy> admission, AdmissionRegistry::Get().Create(s->admission));
      GF_RETURN_IF_ERROR(admission->Bind(s->binding()));
    }
    GF_RETURN_IF_ERROR(Prices(top, s));
    GF_RETURN_IF_ERROR(Power(top, s));
    GF_RETURN_IF_ERROR(ReadFabricSection(top, catalog_, &s->fabric));
    if (s->cluster_auto) {
      GF_ASSIGN_OR_RETURN(s->cluster, SizeCluster(s->deployment, catalog_, s->prices));
    }
    GF_RETURN_IF_ERROR(Placement(top, s));
    return top.Finish();
  }

 private:
  std::string Resolve(const std::string& path) const { return ResolveScenarioPath(base_dir_, path); }

  // Refuses a horizon the engine could not reach (kMaxSimTimeS) rather than cap it: a capped horizon
  // would silently simulate a different workload than the one written.
  absl::Status Limits(MapReader& top, Scenario* s) {
    if (std::isfinite(s->horizon_s) && s->horizon_s > kMaxSimTimeS) {
      return top.ErrorAt("horizon_s",
                         absl::StrFormat("horizon_s %g s is beyond the %g s (about 31.7 years) a run can simulate: "
                                         "at such times a double cannot resolve one iteration",
                                         s->horizon_s, kMaxSimTimeS),
                         absl::StrFormat("a number in [1e-9, %g], or no horizon_s", kMaxSimTimeS));
    }
    if (!top.Has("limits")) { top.Raw("limits"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, top.Raw("limits"), "limits"));
    GF_RETURN_IF_ERROR(m.Opt("max_sim_time_s", &s->max_sim_time_s, 1e-9, kMaxSimTimeS));
    return m.Finish();
  }

  // Absent or `auto`: sized from the deployment (SizeCluster) once the prices are read.
  absl::Status Cluster(MapReader& top, Scenario* s) {
    const YAML::Node raw = top.Raw("cluster");
    if (!top.Has("cluster") || (raw.IsScalar() && raw.Scalar() == "auto")) {
      s->cluster_auto = true;
      return absl::OkStatus();
    }
    if (raw.IsScalar()) {
      return YamlError(file_, raw, absl::StrCat("cluster is '", raw.Scalar(), "'"),
                       "auto, or a mapping {nodes: [{type: NODE, count: N}, ...]}");
    }
    GF_ASSIGN_OR_RETURN(MapReader cluster, MapReader::Make(file_, raw, "cluster"));
    YAML::Node nodes = cluster.Raw("nodes");
    if (!nodes.IsDefined() || !nodes.IsSequence() || nodes.size() == 0) {
      return YamlError(file_, nodes.IsDefined() ? nodes : cluster.node(), "cluster.nodes is missing or empty",
                       "a list of {type: NODE, count: N}");
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      const std::string what = absl::StrCat("cluster.nodes[", i, "]");
      GF_ASSIGN_OR_RETURN(MapReader n, MapReader::Make(file_, nodes[i], what));
      std::string type;
      int64_t count = 1;
      GF_RETURN_IF_ERROR(n.Get("type", &type));
      GF_RETURN_IF_ERROR(n.Opt("count", &count, 1, 100000));
      const NodeSpec* spec = catalog_.FindNode(type);
      if (spec == nullptr) return UnknownName(n, "type", type, "node type", catalog_.NodeNames());
      GF_RETURN_IF_ERROR(n.Finish());
      s->cluster.push_back({spec, static_cast<int>(count)});
    }
    return cluster.Finish();
  }

  absl::Status Model(MapReader& top, Scenario* s) {
    std::string name;
    GF_RETURN_IF_ERROR(top.Get("model", &name));
    s->model = catalog_.FindLlm(name);
    if (s->model == nullptr) return UnknownName(top, "model", name, "model", catalog_.LlmNames());
    return absl::OkStatus();
  }

  absl::Status PerfModel(MapReader& top, Scenario* s) {
    if (!top.Has("perf_model")) { top.Raw("perf_model"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader p, MapReader::Make(file_, top.Raw("perf_model"), "perf_model"));
    PerfModelSpec& spec = s->perf_model;
    GF_RETURN_IF_ERROR(p.OptEnum("type", {"roofline", "calibrated", "constant", "measured"}, &spec.type));
    if (spec.type == "constant") {
      GF_RETURN_IF_ERROR(p.Get("iteration_s", &spec.constant_iteration_s, 1e-9, 1e6));
      return p.Finish();
    }
    if (spec.type == "measured") return MeasuredTable(p, s);
    if (spec.type == "calibrated") {
      if (p.Has("profiles")) {
        GF_RETURN_IF_ERROR(p.Get("profiles", &spec.profile_dir));
        spec.profile_dir = Resolve(spec.profile_dir);
        if (!std::filesystem::is_directory(spec.profile_dir)) {
          return p.ErrorAt("profiles", absl::StrCat("perf_model.profiles '", spec.profile_dir, "' is not a folder"),
                           "a folder of <GPU>.yaml calibration profiles");
        }
        if (std::filesystem::exists(spec.profile_dir + "/stacks.yaml")) {
          return p.ErrorAt("profiles", absl::StrCat("perf_model.profiles '", spec.profile_dir,
                                                    "' is the calibration root, a folder of serving stacks"),
                           "serving_stack: NAME (one of its stacks), or a folder of <GPU>.yaml profiles");
        }
      } else {
        p.Raw("profiles");
      }
      return p.Finish();
    }
    GF_RETURN_IF_ERROR(p.Opt("compute_efficiency", &spec.compute_efficiency, 0.01, 1.0));
    GF_RETURN_IF_ERROR(p.Opt("memory_efficiency", &spec.memory_efficiency, 0.01, 1.0));
    GF_RETURN_IF_ERROR(p.Opt("iteration_overhead_s", &spec.iteration_overhead_s, 0.0, 10.0));
    GF_RETURN_IF_ERROR(p.Opt("collective_latency_s", &spec.collective_latency_s, 0.0, 1.0));
    return p.Finish();
  }

  // perf_model {type: measured, table: CSV, hardware: NAME}: Splitwise's perf-model CSV, read and checked
  // here (its model must be the scenario's; the hardware must have rows); each group's GPU and TP are
  // checked against it in Profiles, once the deployment is known.
  absl::Status MeasuredTable(MapReader& p, Scenario* s) {
    PerfModelSpec& spec = s->perf_model;
    GF_RETURN_IF_ERROR(p.Get("table", &spec.measured_table));
    spec.measured_table = Resolve(spec.measured_table);
    GF_RETURN_IF_ERROR(p.Get("hardware", &spec.measured_hardware));
    absl::StatusOr<std::vector<EndToEndSample>> rows = ReadSplitwise(spec.measured_table);
    if (!rows.ok()) {
      return p.ErrorAt("table", absl::StrCat("perf_model.table cannot be read: ", rows.status().message()),
                       "Splitwise's perf-model CSV (model, hardware, prompt_size, batch_size, token_size, ..., tensor_parallel)");
    }
    std::vector<std::string> hardware;
    for (const EndToEndSample& r : *rows) {
      if (std::find(hardware.begin(), hardware.end(), r.hardware) == hardware.end()) hardware.push_back(r.hardware);
      if (r.hardware == spec.measured_hardware) measured_rows_.push_back(r);
    }
    if (measured_rows_.empty()) {
      return p.ErrorAt("hardware", absl::StrCat("perf_model.hardware '", spec.measured_hardware, "' has no rows in ",
                                                spec.measured_table),
                       absl::StrCat("one of: ", absl::StrJoin(hardware, ", ")));
    }
    for (const EndToEndSample& r : measured_rows_) {
      absl::StatusOr<const LlmSpec*> llm =
          MapModelName(r.model, catalog_, absl::StrCat(r.origin.file, ":", r.origin.row));
      if (!llm.ok() || *llm != s->model) {
        return p.ErrorAt("table", absl::StrCat(r.origin.file, ":", r.origin.row, ": model '", r.model, "' is not the scenario's ",
                                               s->model->name),
                         "a table of the scenario's model");
      }
    }
    return p.Finish();
  }

  // perf_model "measured": every group must run the table's GPU at a TP degree it has rows of.
  absl::Status CheckMeasuredDeployment(MapReader& top, const Scenario& s) {
    const std::string& hw = s.perf_model.measured_hardware;
    std::string gpu_name = hw;
    if (gpu_name.ends_with("-pcap")) gpu_name.resize(gpu_name.size() - 5);  // Splitwise's power-capped H100
    absl::StatusOr<const GpuSpec*> gpu = MapGpuName(gpu_name, catalog_, absl::StrCat(file_, ": perf_model.hardware"));
    std::vector<int> tps;
    for (const EndToEndSample& r : measured_rows_) {
      if (std::find(tps.begin(), tps.end(), r.tensor_parallel) == tps.end()) tps.push_back(r.tensor_parallel);
    }
    std::sort(tps.begin(), tps.end());
    const YAML::Node dep = top.node()["deployment"];
    // The group's own key when it is written, else the group.
    auto at = [&](size_t i, const char* key) { return dep[i][key] ? dep[i][key] : dep[i]; };
    for (size_t i = 0; i < s.deployment.size(); ++i) {
      const ReplicaGroup& g = s.deployment[i];
      if (!gpu.ok() || *gpu != g.gpu) {
        return YamlError(file_, at(i, "gpu"), absl::StrCat("deployment[", i, "] runs ", g.gpu->name, " but perf_model.hardware '",
                                                      hw, "' measured ", gpu.ok() ? (*gpu)->name : "no catalog GPU"),
                           "a measured table of the deployed GPU");
      }
      if (std::find(tps.begin(), tps.end(), g.tensor_parallel) == tps.end()) {
        return YamlError(file_, at(i, "tensor_parallel"),
                           absl::StrCat("deployment[", i, "].tensor_parallel is ", g.tensor_parallel, " but perf_model.table has no rows of '",
                                        hw, "' at that degree"),
                           absl::StrCat("one of the measured degrees: ", absl::StrJoin(tps, ", ")));
      }
    }
    return absl::OkStatus();
  }

  // The serving stack and each group's calibration profile, once the GPUs are known: the default stack
  // depends on which GPUs the scenario deploys.
  absl::Status Profiles(MapReader& top, Scenario* s) {
    PerfModelSpec& spec = s->perf_model;
    if (spec.type != "calibrated") {
      if (top.Has("serving_stack")) {
        return top.ErrorAt("serving_stack", absl::StrCat("serving_stack is set but perf_model.type is '", spec.type, "'"),
                           "serving_stack only with the calibrated perf model (the default)");
      }
      top.Raw("serving_stack");
      if (spec.type == "measured") return CheckMeasuredDeployment(top, *s);
      return absl::OkStatus();
    }
    if (!spec.profile_dir.empty()) {  // perf_model.profiles: the user's own folder is the stack
      if (top.Has("serving_stack")) {
        return top.ErrorAt("serving_stack", "serving_stack and perf_model.profiles are both set",
                           "one of them: a stack of models/calibration, or a folder of profiles");
      }
      top.Raw("serving_stack");
      spec.serving_stack = "custom";
      spec.serving_stack_note = absl::StrCat("profiles from ", spec.profile_dir);
    } else {
      GF_ASSIGN_OR_RETURN(std::vector<ServingStack> stacks, LoadServingStacks(CalibrationRoot(), catalog_));
      if (top.Has("serving_stack")) {
        std::string name;
        GF_RETURN_IF_ERROR(top.Get("serving_stack", &name));
        auto found = FindServingStack(stacks, name);
        if (!found.ok()) {
          std::vector<std::string> names;
          for (const ServingStack& st : stacks) names.push_back(st.name);
          return UnknownName(top, "serving_stack", name, "serving stack", names);
        }
        spec.profile_dir = (*found)->dir;
        spec.serving_stack = name;
        spec.serving_stack_note = "named by the scenario";
      } else {
        top.Raw("serving_stack");
        std::vector<std::string> gpus;
        for (const ReplicaGroup& g : s->deployment) gpus.push_back(g.gpu->name);
        const StackChoice choice = DefaultServingStack(stacks, gpus);
        spec.profile_dir = choice.stack->dir;
        spec.serving_stack = choice.stack->name;
        spec.serving_stack_note = choice.reason;
        spec.serving_stack_by_default = true;
      }
    }
    for (ReplicaGroup& g : s->deployment) {
      auto profile = ProfileForGpu(*g.gpu, catalog_, spec.profile_dir);
      if (!profile.ok()) return profile.status();
      g.profile = *std::move(profile);
    }
    return absl::OkStatus();
  }

  // Each group's power parameters: the GPU's fitted file (models/power), else derived from its spec; then
  // `gpu_power: {GPU: {key: value}}` overrides, for a planner with their own measurements.
  absl::Status GpuPower(MapReader& top, Scenario* s) {
    std::map<std::string, GpuPowerParams> by_gpu;
    for (const ReplicaGroup& g : s->deployment) {
      if (by_gpu.contains(g.gpu->name)) continue;
      auto p = PowerParamsForGpu(*g.gpu);
      if (!p.ok()) return p.status();
      by_gpu[g.gpu->name] = *p;
    }
    if (top.Has("gpu_power")) {
      const YAML::Node section = top.Raw("gpu_power");
      if (!section.IsMap()) {
        return YamlError(file_, section, "gpu_power is not a mapping",
                         "{GPU name: {active_w, pj_per_flop, pj_per_hbm_byte, pj_per_link_byte, ...}}");
      }
      for (const auto& kv : section) {
        const std::string gpu = kv.first.as<std::string>();
        auto it = by_gpu.find(gpu);
        if (it == by_gpu.end()) {
          std::vector<std::string> used;
          for (const auto& [name, p] : by_gpu) used.push_back(name);
          return YamlError(file_, kv.first, absl::StrCat("gpu_power names '", gpu, "', which no deployment group uses"),
                           absl::StrCat("one of ", absl::StrJoin(used, ", ")));
        }
        GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, kv.second, "gpu_power." + gpu));
        GF_RETURN_IF_ERROR(m.ExpectOnly({"idle_w", "active_w", "pj_per_flop", "pj_per_hbm_byte", "pj_per_link_byte",
                                         "flop_energy_clock_exponent", "memory_clock_knee"}));
        GpuPowerParams& p = it->second;
        GF_RETURN_IF_ERROR(ReadPowerParamKeys(m, /*required=*/false, &p));
        GF_RETURN_IF_ERROR(m.Finish());
        p.source = absl::StrCat("the scenario's gpu_power over ", p.status == "fitted" ? "fitted" : "spec-derived",
                                " values (", p.source, ")");
        p.status = "scenario";
      }
    }
    for (ReplicaGroup& g : s->deployment) g.power = by_gpu.at(g.gpu->name);
    return absl::OkStatus();
  }

  absl::Status Deployment(MapReader& top, Scenario* s) {
    YAML::Node dep = top.Raw("deployment");
    if (!dep.IsDefined() || !dep.IsSequence() || dep.size() == 0) {
      return YamlError(file_, dep.IsDefined() ? dep : top.node(), "deployment is missing or empty",
                       "a list of replica groups {gpu, tensor_parallel, replicas, scheduler, ...}");
    }
    for (size_t i = 0; i < dep.size(); ++i) {
      const std::string what = absl::StrCat("deployment[", i, "]");
      GF_ASSIGN_OR_RETURN(MapReader d, MapReader::Make(file_, dep[i], what));
      GF_RETURN_IF_ERROR(d.ExpectOnly({"name", "gpu", "tensor_parallel", "replicas", "max_batch_size",
                                       "max_batched_tokens", "max_model_len", "block_size", "gpu_memory_utilization",
                                       "scheduler", "power_limit_w", "role", "prefix_cache"}));
      ReplicaGroup g;
      g.name = absl::StrCat("group", i);
      GF_RETURN_IF_ERROR(d.Opt("name", &g.name));
      GF_RETURN_IF_ERROR(d.OptEnum("role", {"mixed", "prefill", "decode"}, &g.role));
      GF_RETURN_IF_ERROR(d.Opt("prefix_cache", &g.prefix_cache, 0, 0.9));
      std::string gpu;
      GF_RETURN_IF_ERROR(d.Get("gpu", &gpu));
      g.gpu = catalog_.FindGpu(gpu);
      if (g.gpu == nullptr) return UnknownName(d, "gpu", gpu, "GPU", catalog_.GpuNames());
      int64_t tp = 1, replicas = 1;
      GF_RETURN_IF_ERROR(d.Opt("tensor_parallel", &tp, 1, 64));
      if ((tp & (tp - 1)) != 0) return d.ErrorAt("tensor_parallel", absl::StrCat(what, ".tensor_parallel is ", tp), "a power of two");
      GF_RETURN_IF_ERROR(d.Opt("replicas", &replicas, 1, 100000));
      g.tensor_parallel = static_cast<int>(tp);
      g.replicas = static_cast<int>(replicas);
      if (d.Has("power_limit_w")) {
        // The GPU's settable range (nvidia-smi -q's Min/Max Power Limit): below it no driver accepts the cap.
        const double lo = g.gpu->min_power_w > 0 ? g.gpu->min_power_w : g.gpu->tdp_w;
        const double hi = g.gpu->max_power_w > 0 ? g.gpu->max_power_w : g.gpu->tdp_w;
        double w = 0;
        GF_RETURN_IF_ERROR(d.Opt("power_limit_w", &w));
        if (!(w >= lo && w <= hi)) {
          return d.ErrorAt("power_limit_w", absl::StrFormat("%s.power_limit_w is %g W", what, w),
                           absl::StrFormat("a limit %s accepts: %g..%g W", g.gpu->name, lo, hi));
        }
        g.power_limit_w = w;
      }

      MemoryConfig& m = g.memory;
      m.tensor_parallel = g.tensor_parallel;
      m.max_model_len = s->model->max_context;
      int64_t block_size = m.block_size;
      GF_RETURN_IF_ERROR(d.Opt("max_batch_size", &m.max_batch_size, 1, 1 << 20));
      GF_RETURN_IF_ERROR(d.Opt("max_batched_tokens", &m.max_batched_tokens, 1, 1 << 24));
      GF_RETURN_IF_ERROR(d.Opt("max_model_len", &m.max_model_len, 2, 1 << 24));
      GF_RETURN_IF_ERROR(d.Opt("block_size", &block_size, 1, 1024));
      m.block_size = static_cast<int>(block_size);
      GF_RETURN_IF_ERROR(d.Opt("gpu_memory_utilization", &m.gpu_memory_utilization, 0.05, 1.0));

      g.scheduler = PolicyAt(d, "scheduler", absl::StrCat(what, ".scheduler"), "vllm");
      GF_ASSIGN_OR_RETURN(auto scheduler, BatchSchedulerRegistry::Get().Create(g.scheduler));
      if (!scheduler->chunks_prefills() && m.max_batched_tokens < m.max_model_len) {
        return d.ErrorAt("max_batched_tokens",
                         absl::StrFormat("%s.max_batched_tokens %d is below max_model_len %d; scheduler '%s' "
                                         "runs whole prompts, so longer ones could never be scheduled",
                                         what, m.max_batched_tokens, m.max_model_len, g.scheduler.type),
                         "max_batched_tokens >= max_model_len, or a chunked-prefill scheduler (sarathi)");
      }
      auto plan = PlanMemory(*s->model, *g.gpu, m);
      if (!plan.ok()) {
        const bool weights_fit = plan.status().message().find("does not fit") == absl::string_view::npos;
        return YamlError(file_, d.node(), absl::StrCat(what, ": ", plan.status().message()),
                         weights_fit ? "a larger tensor_parallel, a GPU with more memory, or a shorter max_model_len"
                                     : "a larger tensor_parallel or a GPU with more memory");
      }
      g.memory_plan = *plan;
      GF_RETURN_IF_ERROR(d.Finish());
      s->deployment.push_back(std::move(g));
      group_nodes_.push_back(d.node());
      if (s->cluster_auto) {
        // Sizing the groups so far tells which group is the first no catalog node can hold (the prices,
        // read later, change only which node type wins, not whether one exists).
        auto sized = SizeCluster(s->deployment, catalog_, s->prices);
        if (!sized.ok()) {
          return YamlError(file_, d.node(), std::string(sized.status().message()),
                           "a GPU and tensor_parallel that one catalog node holds (gpufleet catalog nodes), or an "
                           "explicit cluster");
        }
      }
    }
    return absl::OkStatus();
  }

  // The placement policy, then the deployment placed by it on the cluster and its fabric (Placement reads
  // power racks and the fabric, so it runs after them). The first group the policy cannot place is the
  // error, at that group. The fabric graph's checks run here too, so that a fabric built wrong is refused
  // at the section that described it before anything runs.
  absl::Status Placement(MapReader& top, Scenario* s) {
    s->placement = PolicyAt(top, "placement", "placement", "first_fit");
    const ClusterLayout layout = LayoutCluster(s->cluster);
    const FabricGraph graph(layout, catalog_, s->fabric);
    if (absl::Status st = graph.Check(); !st.ok()) {
      return YamlError(file_, top.Has("fabric") ? top.node()["fabric"] : top.node()["cluster"], std::string(st.message()),
                       "a fabric that joins every GPU (docs/fabric.md)");
    }
    int failed = -1;
    auto placed =
        PlaceReplicas({layout, graph.fabric(), s->power.rack_servers, s->deployment}, s->placement, &failed);
    if (placed.ok() || failed < 0) return placed.status();
    return YamlError(file_, group_nodes_[static_cast<size_t>(failed)], std::string(placed.status().message()),
                     "fewer replicas or a smaller tensor_parallel, or more nodes in the cluster");
  }

  // Prefill and decode groups come together; the section (the decode-target policy) only with them.
  absl::Status Disaggregation(MapReader& top, Scenario* s) {
    const YAML::Node dep = top.node()["deployment"];
    int prefill = -1, decode = -1;
    for (size_t i = 0; i < s->deployment.size(); ++i) {
      if (s->deployment[i].role == "prefill" && prefill < 0) prefill = static_cast<int>(i);
      if (s->deployment[i].role == "decode" && decode < 0) decode = static_cast<int>(i);
    }
    if ((prefill >= 0) != (decode >= 0)) {
      const int at = prefill >= 0 ? prefill : decode;
      return YamlError(file_, dep[static_cast<size_t>(at)]["role"],
                       absl::StrCat("deployment[", at, "] has role ", prefill >= 0 ? "prefill" : "decode",
                                    " but no group has role ", prefill >= 0 ? "decode" : "prefill",
                                    ": a prefilled request needs a decode replica to go to"),
                       "both a role: prefill and a role: decode group, or neither (role: mixed, the default)");
    }
    if (prefill < 0) {
      if (top.Has("disaggregation")) {
        return top.ErrorAt("disaggregation", "disaggregation is set but no deployment group has role prefill",
                           "role: prefill and role: decode groups in the deployment, or no disaggregation section");
      }
      top.Raw("disaggregation");
      return absl::OkStatus();
    }
    if (!top.Has("disaggregation")) {
      top.Raw("disaggregation");
      PolicyConfig& target = s->disaggregation.decode_target;
      target.file = file_;
      target.what = "disaggregation.decode_target";
      target.type = "least_loaded";
    } else {
      GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, top.Raw("disaggregation"), "disaggregation"));
      s->disaggregation.decode_target = PolicyAt(m, "decode_target", "disaggregation.decode_target", "least_loaded");
      GF_RETURN_IF_ERROR(m.OptEnum("overlap", {"none", "layerwise"}, &s->disaggregation.overlap));
      GF_RETURN_IF_ERROR(m.Finish());
    }
    return DecodeTargetRegistry::Get().Create(s->disaggregation.decode_target).status();
  }

  // `{type: NAME, params...}` or a bare `NAME`; absent means `fallback`.
  PolicyConfig PolicyAt(MapReader& parent, const std::string& key, const std::string& what, const std::string& fallback) {
    PolicyConfig cfg;
    cfg.file = file_;
    cfg.what = what;
    cfg.type = fallback;
    YAML::Node n = parent.Raw(key);
    if (n.IsDefined() && n.IsScalar()) {
      cfg.type = n.Scalar();
      cfg.node = YAML::Node(YAML::NodeType::Map);
      cfg.node["type"] = n;
    } else if (n.IsDefined() && !n.IsNull()) {
      cfg.node = n;  // Create() reports a non-mapping here
      if (n.IsMap() && n["type"].IsDefined() && n["type"].IsScalar()) cfg.type = n["type"].Scalar();
    }
    return cfg;
  }

  // Validates the router by building it and binding it to the deployment's groups (read before it).
  absl::Status Router(MapReader& top, Scenario* s) {
    s->router = PolicyAt(top, "router", "router", "least_outstanding_tokens");
    GF_ASSIGN_OR_RETURN(std::unique_ptr<gpufleet::Router> router, RouterRegistry::Get().Create(s->router));
    return router->Bind(s->binding());
  }

  absl::Status OneSlo(MapReader& slos, const std::string& key, Slo* out) {
    if (!slos.Has(key)) { slos.Raw(key); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, slos.Raw(key), absl::StrCat("slos.", key)));
    out->enabled = true;
    GF_RETURN_IF_ERROR(m.Get("target_s", &out->target_s, 1e-9, 1e9));
    GF_RETURN_IF_ERROR(m.Opt("percentile", &out->percentile, 1, 100));
    return m.Finish();
  }

  absl::Status Slos(MapReader& top, Scenario* s) {
    if (!top.Has("slos")) { top.Raw("slos"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, top.Raw("slos"), "slos"));
    GF_RETURN_IF_ERROR(OneSlo(m, "ttft", &s->slos.ttft));
    GF_RETURN_IF_ERROR(OneSlo(m, "tbt", &s->slos.tbt));
    GF_RETURN_IF_ERROR(OneSlo(m, "e2e", &s->slos.e2e));
    return m.Finish();
  }

  absl::Status PriceMap(MapReader& p, const std::string& key, const std::vector<std::string>& names,
                        const std::string& kind, std::map<std::string, double>* out) {
    if (!p.Has(key)) { p.Raw(key); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(file_, p.Raw(key), absl::StrCat("prices.", key)));
    for (const auto& kv : m.node()) {
      const std::string name = kv.first.Scalar();
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        std::string hint;
        if (auto c = ClosestMatch(name, names); !c.empty()) hint = absl::StrCat(" (did you mean '", c, "'?)");
        return YamlError(file_, kv.first, absl::StrCat("prices.", key, ": '", name, "' is not a catalog ", kind, hint),
                         absl::StrCat("a ", kind, " name from the catalog"));
      }
      double v = 0;
      GF_RETURN_IF_ERROR(m.Get(name, &v, 0, 1e6));
      (*out)[name] = v;
    }
    return m.Finish();
  }

  absl::Status Prices(MapReader& top, Scenario* s) {
    if (!top.Has("prices")) { top.Raw("prices"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader p, MapReader::Make(file_, top.Raw("prices"), "prices"));
    GF_RETURN_IF_ERROR(PriceMap(p, "gpu_usd_per_hour", catalog_.GpuNames(), "GPU", &s->prices.gpu_usd_per_hour));
    GF_RETURN_IF_ERROR(PriceMap(p, "node_usd_per_hour", catalog_.NodeNames(), "node type", &s->prices.node_usd_per_hour));
    GF_RETURN_IF_ERROR(p.Opt("energy_usd_per_kwh", &s->prices.energy_usd_per_kwh, 0, 100));
    return p.Finish();
  }

  absl::Status Power(MapReader& top, Scenario* s) {
    if (!top.Has("power")) { top.Raw("power"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader p, MapReader::Make(file_, top.Raw("power"), "power"));
    PowerSpec& w = s->power;
    GF_RETURN_IF_ERROR(p.Opt("pue", &w.pue, 1.0, 5.0));
    GF_RETURN_IF_ERROR(p.Opt("budget_w", &w.budget_w, 0, 1e10));
    GF_RETURN_IF_ERROR(p.Opt("telemetry_interval_s", &w.telemetry_interval_s, 0.01, 3600));
    GF_RETURN_IF_ERROR(p.Opt("breaker_window_s", &w.breaker_window_s, 0, 3600));
    GF_RETURN_IF_ERROR(p.Opt("carbon_g_per_kwh", &w.carbon_g_per_kwh, 0, 5000));
    std::string idle = "idle";
    GF_RETURN_IF_ERROR(p.OptEnum("idle_servers", {"idle", "off"}, &idle));
    w.idle_servers_off = idle == "off";
    GF_RETURN_IF_ERROR(p.Opt("actuation_delay_s", &w.actuation_delay_s, 0, 600));
    if (p.Has("racks")) {
      GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file_, p.Raw("racks"), "power.racks"));
      GF_RETURN_IF_ERROR(r.Get("servers", &w.rack_servers, 1, 100000));
      GF_RETURN_IF_ERROR(r.Opt("budget_w", &w.rack_budget_w, 0, 1e10));
      GF_RETURN_IF_ERROR(r.Finish());
    }
    if (p.Has("rows")) {
      if (w.rack_servers == 0) {
        return p.ErrorAt("rows", "power.rows groups racks, but power.racks is not set",
                         "power.racks: {servers: N, budget_w: W} before rows");
      }
      GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file_, p.Raw("rows"), "power.rows"));
      GF_RETURN_IF_ERROR(r.Get("racks", &w.row_racks, 1, 100000));
      GF_RETURN_IF_ERROR(r.Opt("budget_w", &w.row_budget_w, 0, 1e10));
      GF_RETURN_IF_ERROR(r.Finish());
    }
    w.controller = PolicyAt(p, "controller", "power.controller", "none");
    GF_ASSIGN_OR_RETURN(std::unique_ptr<PowerController> controller,
                        PowerControllerRegistry::Get().Create(w.controller));
    GF_RETURN_IF_ERROR(controller->Bind(s->binding()));
    if (controller->needs_budget() && w.budget_w <= 0 && w.rack_budget_w <= 0 && w.row_budget_w <= 0) {
      return p.ErrorAt("controller",
                       absl::StrCat("power.controller '", w.controller.type, "' caps against a budget, and none is set"),
                       "power.budget_w (the cluster's IT budget in watts), or power.racks.budget_w / power.rows.budget_w");
    }
    if (w.budget_w > 0 && w.breaker_window_s < w.telemetry_interval_s) {
      return p.ErrorAt("breaker_window_s",
                       absl::StrFormat("power.breaker_window_s %g is shorter than telemetry_interval_s %g",
                                       w.breaker_window_s, w.telemetry_interval_s),
                       "a window of at least one telemetry interval");
    }
    return p.Finish();
  }

  absl::Status UnknownName(MapReader& m, const std::string& key, const std::string& value, const std::string& kind,
                           const std::vector<std::string>& names) {
    std::string hint;
    if (auto c = ClosestMatch(value, names); !c.empty()) hint = absl::StrCat(" (did you mean '", c, "'?)");
    return m.ErrorAt(key, absl::StrCat(m.what(), ".", key, " '", value, "' is not in the ", kind, " catalog", hint),
                     absl::StrCat("one of: ", absl::StrJoin(names, ", ")));
  }

  std::string file_;
  std::string base_dir_;
  const Catalog& catalog_;
  std::vector<EndToEndSample> measured_rows_;  // perf_model "measured": the table's rows of its hardware
  std::vector<YAML::Node> group_nodes_;        // deployment[i]'s mapping, where errors about group i point
};

}  // namespace

std::string ResolveScenarioPath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

PolicyBinding Scenario::binding() const {
  return PolicyBinding{group_names(), seed, slos.ttft.enabled ? slos.ttft.target_s : 0.0,
                       slos.tbt.enabled ? slos.tbt.target_s : 0.0};
}

std::vector<std::string> Scenario::group_names() const {
  std::vector<std::string> names;
  for (const ReplicaGroup& g : deployment) names.push_back(g.name);
  return names;
}

int Scenario::total_replicas() const {
  int n = 0;
  for (const auto& g : deployment) n += g.replicas;
  return n;
}

int64_t Scenario::min_max_model_len() const {
  int64_t m = std::numeric_limits<int64_t>::max();
  for (const auto& g : deployment) m = std::min(m, g.memory.max_model_len);
  return m;
}

absl::StatusOr<Scenario> LoadScenarioFromString(const std::string& text, const std::string& name,
                                                const std::string& base_dir, const Catalog& catalog,
                                                const std::vector<ScenarioOverride>& overrides) {
  GF_ASSIGN_OR_RETURN(ResolvedScenario resolved, ResolvedScenario::Make(text, name, overrides));
  Scenario s;
  s.path = name;
  s.text = resolved.text();
  Loader loader(name, base_dir, catalog);
  if (absl::Status st = loader.Load(resolved.root(), &s); !st.ok()) return resolved.Locate(st);
  return s;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path, const Catalog& catalog,
                                      const std::vector<ScenarioOverride>& overrides) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return LoadScenarioFromString(ss.str(), path, dir.empty() ? "." : dir, catalog, overrides);
}

}  // namespace gpufleet
