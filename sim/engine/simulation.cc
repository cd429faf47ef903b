// Simulation set-up, the router and the calendar loop (see simulation.h).
#include "sim/engine/simulation.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include <simgrid/plugins/load.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "policies/admission/admission_policy.h"
#include "policies/migration/migration_policy.h"
#include "policies/routing/router.h"
#include "sim/engine/calendar.h"
#include "sim/engine/disaggregation.h"
#include "sim/engine/migration.h"
#include "sim/engine/power_monitor.h"
#include "sim/engine/progress.h"
#include "sim/engine/replica_profile.h"
#include "sim/engine/run_guard.h"
#include "sim/engine/series_sampler.h"
#include "sim/platform/platform_builder.h"
#include "sim/platform/tp_link.h"
#include "sim/util/status_macros.h"
#include "traces/workload_stream.h"

namespace sg4 = simgrid::s4u;

namespace gpufleet {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

RequestSloCheck SloCheckOf(const SloSpec& slos) {
  return RequestSloCheck{slos.ttft.enabled ? slos.ttft.target_s : kInf, slos.e2e.enabled ? slos.e2e.target_s : kInf,
                         slos.tbt.enabled ? slos.tbt.target_s : kInf, slos.tbt.enabled ? slos.tbt.percentile : 100.0};
}

// The router: pulls arrivals, applies the overlength rule, routes, hands over. It acts at each distinct
// arrival date; requests arriving at the same date are all routed before any replica acts on them.
struct Frontend {
  RequestStream* stream;
  Router* router;
  AdmissionPolicy* admission;
  std::vector<std::unique_ptr<Replica>>* replicas;
  const std::vector<int>* entry;  // the replicas the router sees (its view's indices), global indices
  RunContext* ctx;
  RunResult* result;
  SeriesSampler* series;
  int64_t max_model_len;
  bool truncate;
  FleetView* fleet;
  absl::Status error;
  TraceRequest next;          // pulled from the stream, arriving at the router's next date
  int64_t output_routed = 0;  // output tokens of every routed request, for the backlog rule

  // The guard's view of the backlog: routed and unfinished requests, and their output tokens still to come.
  int64_t Outstanding() const { return result->arrived - result->rejected - ctx->completed; }
  int64_t OutputLeft() const { return output_routed - ctx->tokens_out; }

  // Books the first arrival.
  void Start() {
    if (Pull()) ctx->calendar->Schedule(next.arrival_s, Calendar::kRouter);
  }

  // The calendar's call at `next`'s arrival date: routes it and every request arriving at the same date.
  void Wake() {
    while (true) {
      if (!Arrive(next) || !Pull()) return;
      if (next.arrival_s > ctx->now_s) {
        ctx->calendar->Schedule(next.arrival_s, Calendar::kRouter);
        return;
      }
    }
  }

  // The next request into `next`; false at the end of the stream (arrivals are then done) or on an error.
  bool Pull() {
    auto more = stream->Next(&next);
    if (!more.ok()) {
      error = more.status();
      return false;
    }
    if (*more) return true;
    ctx->guard->OnArrivalsDone(ctx->now_s, Outstanding(), OutputLeft(), ctx->tokens_out);
    return false;
  }

  void Reject(const TraceRequest& req, const std::string& reason) {
    ctx->log->OnRejected(req);
    ++result->rejected;
    ++result->rejected_by_reason[reason];
  }

  // One request arriving now; false when the backlog rule ended the run.
  bool Arrive(const TraceRequest& req) {
    if (ctx->guard->CheckBacklog(ctx->now_s, Outstanding(), OutputLeft(), ctx->tokens_out)) return false;
    CatchUpSamplers(ctx, ctx->now_s);
    if (series != nullptr) series->OnArrival();
    ++result->arrived;
    uint32_t prompt = req.prompt_tokens, output = req.output_tokens;
    if (static_cast<int64_t>(prompt) + output > max_model_len) {
      if (!truncate) {
        Reject(req, "overlength");
        return true;
      }
      output = static_cast<uint32_t>(std::min<int64_t>(output, max_model_len - 1));
      prompt = static_cast<uint32_t>(std::min<int64_t>(prompt, max_model_len - output));
      ++result->truncated;
    }
    if (std::optional<std::string> why = admission->Reject(req, ctx->now_s, *fleet)) {
      Reject(req, *why);
      return true;
    }
    const size_t pick = router->Route(req, *fleet);
    (*replicas)[static_cast<size_t>((*entry)[pick])]->Enqueue(req, prompt, output);
    if (ctx->migrator != nullptr) ctx->migrator->Arm();
    output_routed += output;
    return true;
  }
};

// The engine's one SimGrid actor: handles the calendar's events in date order until none is left, the
// guard stops the run or the workload fails to read. The replicas' iterations and the collectives are
// priced analytically, so while no KV cache is in flight SimGrid's clock is not advanced event by event
// (that sleep cost ~0.9 us per event, half of a 10,000-replica run): it is brought to the date of the
// next transfer's start, and to the end date. While transfers are in flight (disaggregated serving), the
// loop lets SimGrid run up to each event's date, handling every landing on the way at its own date.
void RunCalendar(Frontend* frontend, std::vector<std::unique_ptr<Replica>>* replicas, RunContext* ctx) {
  Calendar& calendar = *ctx->calendar;
  RunGuard& guard = *ctx->guard;
  Disaggregation* handoff = ctx->handoff;
  frontend->Start();
  while (!guard.stopped() && frontend->error.ok()) {
    const double next = calendar.empty() ? kInf : calendar.top().t_s;
    if (handoff != nullptr && handoff->in_flight()) {
      if (handoff->WaitLanding(std::min(next, guard.limit_s()))) continue;
      if (next > guard.limit_s()) {  // SimGrid reached the limit with caches still on their way
        guard.StopAtLimit();
        ctx->now_s = guard.limit_s();
        break;
      }
    }
    if (calendar.empty()) break;
    const Calendar::Event e = calendar.top();
    if (e.who >= 0 && (*replicas)[static_cast<size_t>(e.who)]->TakeStaleWake(e.t_s)) {
      calendar.pop();  // a timed wait an arrival cut short: no event, the clock stays where it is
      continue;
    }
    if (guard.Beyond(e.t_s)) {
      // The run cannot end before this event, so it ends at the limit (an iteration in progress counts
      // its busy time up to there).
      guard.StopAtLimit();
      ctx->now_s = guard.limit_s();
      break;
    }
    calendar.pop();
    ctx->now_s = e.t_s;
    if (e.who == Calendar::kRouter) {
      frontend->Wake();
    } else if (e.who == Calendar::kMigrator) {
      ctx->migrator->Round();
    } else {
      (*replicas)[static_cast<size_t>(e.who)]->Wake();
    }
  }
  if (sg4::Engine::get_clock() < ctx->now_s) sg4::this_actor::sleep_until(ctx->now_s);
}

// The power figures need each replica's GPU model and the idle power of the GPUs that hold no replica.
std::unique_ptr<SeriesSampler> MakeSeriesSampler(double interval_s, const Scenario& scenario, const Catalog& catalog,
                                                 const Platform& platform,
                                                 const std::vector<ReplicaPlacement>& placements,
                                                 const std::vector<std::unique_ptr<Replica>>& replicas,
                                                 SeriesSpool* out) {
  std::vector<const GpuSpec*> replica_gpus;
  std::vector<bool> used(platform.gpus.size(), false);
  for (const ReplicaPlacement& p : placements) {
    replica_gpus.push_back(scenario.deployment[p.group].gpu);
    for (int g : p.gpus) used[g] = true;
  }
  double unused_idle_w = 0;
  for (const auto& inst : platform.layout.nodes) {
    for (int g = 0; g < inst.node->gpus_per_node; ++g) {
      if (!used[inst.first_gpu + g]) unused_idle_w += catalog.FindGpu(inst.node->gpu)->idle_w;
    }
  }
  return std::make_unique<SeriesSampler>(interval_s, &replicas, std::move(replica_gpus), unused_idle_w, out);
}

}  // namespace

absl::StatusOr<RunResult> RunSimulation(const Scenario& scenario, const Catalog& catalog, const RunOptions& options) {
  if (options.series_interval_s != 0 && !(options.series_interval_s >= kMinSeriesIntervalS)) {
    return absl::InvalidArgumentError(absl::StrFormat("series interval %g s: must be at least %g s",
                                                      options.series_interval_s, kMinSeriesIntervalS));
  }
  if (options.series_interval_s > 0 && options.series == nullptr) {
    return absl::InternalError("a time series was asked for without a spool to hold it");
  }
  // SimGrid logs through xbt; keep it quiet unless asked.
  xbt_log_control_set(options.verbose ? "root.thres:info" : "root.thres:critical");
  int argc = 1;
  char arg0[] = "gpufleet";
  char* argv[] = {arg0, nullptr};
  // SimGrid installs its own SIGINT handler (print the actors' status, exit 1); the process's own handlers
  // (the CLI's clean stop, sim/util/interrupt.h) must stay in force.
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, nullptr, &old_int);
  sigaction(SIGTERM, nullptr, &old_term);
  sg4::Engine engine(&argc, argv);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  GF_ASSIGN_OR_RETURN(std::unique_ptr<RequestStream> stream,
                      MakeRequestStream(scenario.workload, scenario.seed, scenario.horizon_s));
  GF_ASSIGN_OR_RETURN(std::unique_ptr<Router> router, RouterRegistry::Get().Create(scenario.router));
  GF_RETURN_IF_ERROR(router->Bind(scenario.binding()));
  GF_ASSIGN_OR_RETURN(std::unique_ptr<AdmissionPolicy> admission, AdmissionRegistry::Get().Create(scenario.admission));
  GF_RETURN_IF_ERROR(admission->Bind(scenario.binding()));

  // The fabric is RDMA (InfiniBand/RoCE, NVLink): a flow gets its max-min share of every link and pays the
  // links' latency, nothing more. SimGrid's default model (LV08) is fitted to TCP over Ethernet: it
  // multiplies latencies by 13, takes 3% off bandwidths, bounds a flow by a TCP window over its round
  // trip and charges reverse (ACK) traffic; none of that holds for GPU fabrics.
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/TCP-gamma:0");
  sg4::Engine::set_config("network/crosstraffic:0");
  const bool disaggregated = std::any_of(scenario.deployment.begin(), scenario.deployment.end(),
                                         [](const ReplicaGroup& g) { return g.role == "decode"; });
  GF_ASSIGN_OR_RETURN(std::unique_ptr<MigrationPolicy> migration, MigrationRegistry::Get().Create(scenario.migration));
  GF_RETURN_IF_ERROR(migration->Bind(scenario.binding()));
  const bool migrates = migration->interval_s() > 0;
  if (disaggregated || migrates) sg_link_load_plugin_init();  // the transfers' per-link peaks (kv_transport.h)
  Platform platform = BuildPlatform(scenario.cluster, catalog, scenario.fabric);
  GF_ASSIGN_OR_RETURN(std::vector<ReplicaPlacement> placements,
                      PlaceReplicas({platform.layout, platform.fabric, scenario.power.rack_servers, scenario.deployment},
                                    scenario.placement));

  auto result = std::make_unique<RunResult>();
  result->log = RequestLog(SloCheckOf(scenario.slos), options.requests);
  ProgressMeter progress(options.progress, [&stream] { return stream->Progress(); });
  RunContext ctx;
  ctx.log = &result->log;
  ctx.progress = &progress;
  int64_t fleet_capacity = 0;
  for (const ReplicaGroup& g : scenario.deployment) fleet_capacity += g.memory.max_batch_size * g.replicas;
  RunGuard guard(scenario.max_sim_time_s, scenario.horizon_s, fleet_capacity);
  ctx.guard = &guard;

  // One power model per deployment group (its GPU's parameters), alive for the whole run.
  std::vector<GpuPowerParams> group_power;
  for (const ReplicaGroup& g : scenario.deployment) {
    group_power.push_back(g.power);
    const std::string label = PowerParamsLabel(group_power.back());
    if (result->power_model_label.find(label) == std::string::npos) {
      result->power_model_label += (result->power_model_label.empty() ? "" : "; ") + label;
    }
  }
  // One perf model per group, node type and TP link (the hardware it prices), shared by those replicas.
  std::map<std::tuple<int, const NodeSpec*, double, double>, std::unique_ptr<PerfModel>> perf_models;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<ReplicaProfile> profiles;  // by replica id, for the policies' views
  std::map<const PerfModel*, ReplicaProfile> profile_of;  // one fit per perf model (a 10,000-replica fleet has few)
  for (const ReplicaPlacement& p : placements) {
    const ReplicaGroup& group = scenario.deployment[p.group];
    const NodeSpec* node = platform.layout.nodes[p.node_index].node;
    const TensorParallelLink tp = TensorParallelLinkOf(platform.layout, platform.fabric, scenario.fabric, p);
    std::unique_ptr<PerfModel>& perf = perf_models[{p.group, node, tp.gbps, tp.latency_s}];
    if (perf == nullptr) {
      ReplicaHardware hw{scenario.model, group.gpu, node, group.tensor_parallel, &group.profile, tp.gbps, tp.latency_s};
      GF_ASSIGN_OR_RETURN(perf, MakePerfModel(scenario.perf_model, hw));
      // One label per distinct model: a mixed fleet may run calibrated and derived profiles side by side.
      if (result->perf_model_label.find(perf->Label()) == std::string::npos) {
        result->perf_model_label += (result->perf_model_label.empty() ? "" : "; ") + perf->Label();
      }
    }
    auto fitted = profile_of.find(perf.get());
    if (fitted == profile_of.end()) {
      fitted = profile_of.emplace(perf.get(), FitReplicaProfile(*perf, group, *node, catalog, scenario.prices)).first;
    }
    profiles.push_back(fitted->second);
    GF_ASSIGN_OR_RETURN(std::unique_ptr<BatchScheduler> scheduler, BatchSchedulerRegistry::Get().Create(group.scheduler));
    std::vector<sg4::Host*> hosts;
    for (int g : p.gpus) hosts.push_back(platform.gpus[g]);
    SchedulerLimits limits{group.memory.max_batch_size, group.memory.max_batched_tokens, 0};
    replicas.push_back(std::make_unique<Replica>(p.replica, p.group, std::move(hosts), perf.get(),
                                                 std::move(scheduler), group.memory_plan.num_blocks,
                                                 group.memory.block_size, limits, &group_power[p.group],
                                                 group.power_limit_w, &ctx));
    if (group.prefix_cache > 0) replicas.back()->EnablePrefixCache(group.prefix_cache);
    // Each GPU moves its shard of a swapped cache over its own PCIe link (gpus.yaml pcie_gbps, one way).
    replicas.back()->SetHostLink(scenario.model->KvBytesPerToken(),
                                 group.gpu->pcie_gbps * 1e9 * static_cast<double>(group.tensor_parallel));
  }
  if (scenario.perf_model.type == "calibrated" && !scenario.perf_model.serving_stack.empty()) {
    result->perf_model_label += absl::StrCat("; serving stack ", scenario.perf_model.serving_stack, " (",
                                             scenario.perf_model.serving_stack_note, ")");
  }
  std::unique_ptr<SeriesSampler> series;
  if (options.series_interval_s > 0) {
    series = MakeSeriesSampler(options.series_interval_s, scenario, catalog, platform, placements, replicas,
                               options.series);
    ctx.series = series.get();
  }
  // The cluster's servers, each with the replicas placed on it, for the power readings.
  std::vector<PowerMonitor::Server> servers;
  for (const auto& inst : platform.layout.nodes) {
    servers.push_back({inst.node, catalog.FindGpu(inst.node->gpu), {}, {}, 0});
  }
  for (const ReplicaPlacement& p : placements) {
    // A TP group spanning nodes draws power on each of them, through its GPUs there.
    for (int n : p.nodes) {
      const int here = static_cast<int>(p.gpus.size() / p.nodes.size());
      servers[n].replicas.push_back(p.replica);
      servers[n].gpus_here.push_back(here);
      servers[n].replica_gpus += here;
    }
  }
  // One controller per power domain of the level it acts at (power_monitor.h).
  std::vector<std::unique_ptr<PowerController>> controllers;
  if (!scenario.power.controller.type.empty() && scenario.power.controller.type != "none") {
    const std::string level = ControlLevel(scenario.power);
    for (const PowerDomain& d : PowerDomains(scenario.power, static_cast<int>(servers.size()))) {
      if (d.level != level) continue;
      GF_ASSIGN_OR_RETURN(std::unique_ptr<PowerController> c,
                          PowerControllerRegistry::Get().Create(scenario.power.controller));
      GF_RETURN_IF_ERROR(c->Bind(scenario.binding()));
      controllers.push_back(std::move(c));
    }
  }
  PowerMonitor power(scenario.power, &replicas, std::move(servers), std::move(controllers), options.power_series);
  ctx.power = &power;
  // The router reads the loads of the replicas that take arrivals (mixed and prefill) in place; each
  // replica publishes its changes to its view (fleet_view.h). Decode replicas have their own view, which
  // the decode-target policy reads (disaggregation.h).
  std::vector<ReplicaLoad> entry_loads, decode_loads;
  std::vector<ReplicaProfile> entry_profiles, decode_profiles;
  std::vector<int> entry, decode_ids;
  for (const ReplicaPlacement& p : placements) {
    const ReplicaGroup& group = scenario.deployment[p.group];
    const bool decode = group.role == "decode";
    std::vector<ReplicaLoad>& loads = decode ? decode_loads : entry_loads;
    (decode ? decode_ids : entry).push_back(p.replica);
    (decode ? decode_profiles : entry_profiles).push_back(profiles[static_cast<size_t>(p.replica)]);
    ReplicaLoad load;
    load.replica = static_cast<int>(loads.size());
    load.group = p.group;
    load.kv_free_blocks = load.kv_total_blocks = group.memory_plan.num_blocks;
    loads.push_back(load);
  }
  const int num_groups = static_cast<int>(scenario.deployment.size());
  FleetView fleet(std::move(entry_loads), num_groups, router->Needs());
  fleet.SetProfiles(std::move(entry_profiles));
  std::unique_ptr<Disaggregation> handoff;
  if (!decode_ids.empty()) {
    GF_ASSIGN_OR_RETURN(std::unique_ptr<DecodeTarget> target,
                        DecodeTargetRegistry::Get().Create(scenario.disaggregation.decode_target));
    GF_RETURN_IF_ERROR(target->Bind(scenario.binding()));
    auto decodes = std::make_unique<FleetView>(std::move(decode_loads), num_groups, target->Needs());
    decodes->SetProfiles(std::move(decode_profiles));
    handoff = std::make_unique<Disaggregation>(&replicas, decode_ids, std::move(decodes), std::move(target),
                                               scenario.model->KvBytesPerToken(),
                                               scenario.disaggregation.overlap == "layerwise" ? scenario.model->layers : 0,
                                               &ctx);
    ctx.handoff = handoff.get();
  } else if (migrates) {
    // Migrations only: the transport without decode replicas.
    handoff = std::make_unique<Disaggregation>(&replicas, std::vector<int>{},
                                               std::make_unique<FleetView>(std::vector<ReplicaLoad>{}, num_groups, RouterNeeds{}),
                                               nullptr, scenario.model->KvBytesPerToken(), 0, &ctx);
    ctx.handoff = handoff.get();
  }
  std::unique_ptr<Migrator> migrator;
  if (migrates) {
    migrator = std::make_unique<Migrator>(std::move(migration), &fleet, entry, &replicas, &ctx);
    ctx.migrator = migrator.get();
  }
  for (size_t i = 0; i < entry.size(); ++i) {
    const std::string& role = scenario.deployment[replicas[entry[i]]->group()].role;
    replicas[entry[i]]->Bind(&fleet, static_cast<int>(i), role == "prefill" ? ReplicaRole::kPrefill : ReplicaRole::kMixed);
  }
  for (size_t i = 0; i < decode_ids.size(); ++i) {
    replicas[decode_ids[i]]->Bind(handoff->decodes(), static_cast<int>(i), ReplicaRole::kDecode);
  }
  Calendar calendar;
  ctx.calendar = &calendar;

  Frontend frontend{stream.get(), router.get(), admission.get(), &replicas, &entry, &ctx, result.get(), series.get(),
                    scenario.min_max_model_len(), scenario.overlength == "truncate", &fleet, absl::OkStatus(), {}};
  sg4::Actor::create("fleet", platform.gpus.front(), [&] { RunCalendar(&frontend, &replicas, &ctx); });
  engine.run();
  progress.Finish();
  if (!frontend.error.ok()) return frontend.error;

  result->partial = guard.stopped();
  result->stop_reason = guard.reason();
  size_t stuck = handoff != nullptr ? handoff->requests_in_flight() : 0;
  for (const auto& r : replicas) stuck += r->unfinished();
  if (stuck > 0 && !result->partial) {
    return absl::InternalError(absl::StrFormat("%d requests never completed (a replica could not schedule them)", stuck));
  }
  for (const auto& r : replicas) r->ForEachUnfinished([&](const Sequence& s) { result->log.OnUnfinished(s); });
  if (handoff != nullptr) handoff->ForEachInFlight([&](const Sequence& s) { result->log.OnUnfinished(s); });
  GF_RETURN_IF_ERROR(result->log.Flush());

  result->end_s = ctx.now_s;
  if (migrator != nullptr) {
    result->migrates = true;
    result->migrations = std::move(handoff->migrations());
    if (decode_ids.empty()) result->links = handoff->Links(result->end_s);
  }
  if (handoff != nullptr && !decode_ids.empty()) {
    result->disaggregated = true;
    result->transfers = std::move(handoff->log());
    result->transfers.decode_replica_s = static_cast<double>(decode_ids.size()) * result->end_s;
    for (int d : decode_ids) result->transfers.decode_kv_wait_s += replicas[d]->stats().kv_wait_s;
    result->links = handoff->Links(result->end_s);
  }
  GF_ASSIGN_OR_RETURN(result->power, power.Finish(result->end_s));
  if (series != nullptr) {
    GF_RETURN_IF_ERROR(series->Finish(result->end_s));
    result->series_samples = options.series->size();
  }
  std::vector<int> gpu_replica(platform.gpus.size(), -1);
  for (const auto& r : replicas) {
    const ReplicaGroup& group = scenario.deployment[r->group()];
    ReplicaResult rr{r->id(), r->group(), group.name, group.gpu->name, group.tensor_parallel, {}, r->stats()};
    rr.stats.busy_s = r->BusyUntil(result->end_s);  // a stopped run may end mid-iteration
    rr.stats.busy_energy_j = r->BusyEnergyUntil(result->end_s);
    for (auto* h : r->gpus()) rr.hosts.push_back(h->get_name());
    result->replicas.push_back(std::move(rr));
  }
  for (const ReplicaPlacement& p : placements)
    for (int g : p.gpus) gpu_replica[g] = p.replica;
  for (size_t n = 0; n < platform.layout.nodes.size(); ++n) {
    const auto& inst = platform.layout.nodes[n];
    for (int g = 0; g < inst.node->gpus_per_node; ++g) {
      const int idx = inst.first_gpu + g;
      GpuResult gr{platform.gpus[idx]->get_name(), inst.node->gpu, inst.node->name, gpu_replica[idx]};
      if (gr.replica >= 0) {
        const ReplicaStats& st = result->replicas[gr.replica].stats;
        gr.busy_s = st.busy_s;
        gr.busy_energy_j = st.busy_energy_j;
        gr.flops = st.flops;
        gr.hbm_bytes = st.hbm_bytes;
      }
      result->gpus.push_back(std::move(gr));
    }
  }
  return std::move(*result);
}

}  // namespace gpufleet
