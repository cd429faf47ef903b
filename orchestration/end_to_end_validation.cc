// Rebuilding published serving runs as scenarios and simulating them (see end_to_end_validation.h).
#include "orchestration/end_to_end_validation.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "orchestration/child_processes.h"
#include "orchestration/simulate_jobs.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

constexpr double kSeriesInterval = 1.0;

// Output lengths at the quantiles (i + 0.5) / n of the histogram (uniform within a bin), then in a fixed
// scrambled order so that long and short requests mix as a shuffled dataset would.
std::vector<int> QuantileLengths(const EndToEndRun& run, int n) {
  std::vector<int> out;
  const auto& edges = run.output_bins;
  const auto& counts = run.output_counts;
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  if (edges.size() < 2 || total <= 0) {
    out.assign(n, std::max(1, run.output_tokens));
    return out;
  }
  size_t bin = 0;
  double below = 0;  // count in bins before `bin`
  for (int i = 0; i < n; ++i) {
    const double q = (i + 0.5) / n * total;
    while (bin + 1 < counts.size() && below + counts[bin] < q) below += counts[bin++];
    const double frac = counts[bin] > 0 ? (q - below) / counts[bin] : 0.5;
    const double len = edges[bin] + std::clamp(frac, 0.0, 1.0) * (edges[bin + 1] - edges[bin]);
    out.push_back(std::max(1, static_cast<int>(std::lround(len))));
  }
  // A stride coprime with n visits every index once.
  size_t stride = static_cast<size_t>(n * 0.618) | 1;
  while (std::gcd(stride, static_cast<size_t>(n)) != 1) stride += 2;
  std::vector<int> shuffled(n);
  for (int i = 0; i < n; ++i) shuffled[i] = out[(static_cast<size_t>(i) * stride) % n];
  return shuffled;
}

int ClosedLoopRequests(const EndToEndRun& run) { return std::max(256, 3 * run.batch); }

// Output tokens per second and the power of one of the replica's GPUs over the intervals in which requests
// were still waiting (the batch was full), leaving out the first (the opening prefills); NaN when there
// were none.
struct Steady {
  double tok_s = NAN, gpu_power_w = NAN;
};
Steady SteadyState(const std::string& series_csv, int tensor_parallel) {
  std::ifstream in(series_csv);
  std::string line;
  if (!std::getline(in, line)) return {};
  std::vector<std::string> head = absl::StrSplit(line, ',');
  auto col = [&](const char* name) { return std::find(head.begin(), head.end(), name) - head.begin(); };
  const size_t replica = col("replica"), waiting = col("waiting"), tokens = col("output_tokens"), power = col("power_w");
  double sum = 0, power_sum = 0;
  int intervals = 0, power_intervals = 0;
  bool first = true, steady = false;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != head.size()) continue;
    if (f[replica] == "0" && steady) {  // the replica's row of a steady interval (one replica per run)
      power_sum += std::stod(f[power]) / tensor_parallel;
      ++power_intervals;
    }
    if (f[replica] != "-1") continue;
    steady = false;
    if (first) { first = false; continue; }
    if (std::stod(f[waiting]) <= 0) continue;
    steady = true;
    sum += std::stod(f[tokens]);
    ++intervals;
  }
  Steady out;
  if (intervals > 0) out.tok_s = sum / (intervals * kSeriesInterval);
  if (power_intervals > 0) out.gpu_power_w = power_sum / power_intervals;
  return out;
}

std::vector<RunMetric> MetricsOf(const EndToEndRun& run, const nlohmann::json& j, const Steady& steady) {
  const double steady_tok_s = steady.tok_s;
  std::vector<RunMetric> out;
  auto num = [&](const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN; };
  auto add = [&](const char* name, double measured, double simulated) {
    if (std::isfinite(measured) && measured > 0 && std::isfinite(simulated) && simulated > 0) {
      out.push_back({name, measured, simulated});
    }
  };
  if (run.kind == EndToEndRun::Kind::kFixedBatch) {
    add("latency", run.latency_s, num("e2e_max_s"));
    add("ttft", run.ttft_s, num("ttft_mean_s"));
    add("output_tok_s", run.output_tok_s,
        static_cast<double>(run.batch) * run.output_tokens / num("e2e_max_s"));
    add("itl_p50", run.itl_p50_s, num("tbt_p50_s"));
    add("gpu_power_w", run.power_w / run.tensor_parallel, num("deployed_gpu_power_w"));
  } else {
    add("output_tok_s", run.output_tok_s, std::isfinite(steady_tok_s) ? steady_tok_s : num("throughput_tok_s"));
    add("itl_p50", run.itl_p50_s, num("tbt_p50_s"));
    add("itl_p90", run.itl_p90_s, num("tbt_p90_s"));
    add("itl_p95", run.itl_p95_s, num("tbt_p95_s"));
    add("itl_p99", run.itl_p99_s, num("tbt_p99_s"));
    add("gpu_power_w", run.power_w / run.tensor_parallel,
        std::isfinite(steady.gpu_power_w) ? steady.gpu_power_w : num("deployed_gpu_power_w"));
  }
  return out;
}

}  // namespace

absl::StatusOr<RunScenario> ScenarioForRun(const EndToEndRun& run, const EndToEndValidationOptions& options) {
  const LlmSpec* llm = options.catalog->FindLlm(run.model);
  if (llm == nullptr) return absl::InvalidArgumentError(absl::StrCat("model '", run.model, "' is not in the catalog"));
  RunSchedule sched = ScheduleOf(run, *llm, options.assumptions);
  RunScenario out;
  out.trace_csv = "arrival_s,prompt_tokens,output_tokens\n";
  int longest = 0;
  if (run.kind == EndToEndRun::Kind::kFixedBatch) {
    for (int i = 0; i < run.batch; ++i) absl::StrAppend(&out.trace_csv, "0,", run.prompt_tokens, ",", run.output_tokens, "\n");
    longest = run.prompt_tokens + run.output_tokens;
  } else {
    const int p = options.assumptions.closed_loop_prompt_tokens;
    for (int len : QuantileLengths(run, ClosedLoopRequests(run))) {
      absl::StrAppend(&out.trace_csv, "0,", p, ",", len, "\n");
      longest = std::max(longest, p + len);
    }
  }
  // A closed loop serves at most its longest request (ML.ENERGY sizes max_model_len to fit the GPUs, which
  // the catalog's context length for Qwen3-32B on one H100 would not).
  sched.max_model_len = run.kind == EndToEndRun::Kind::kClosedLoop ? longest : std::max<int64_t>(sched.max_model_len, longest);
  if (run.kind == EndToEndRun::Kind::kFixedBatch) sched.max_batched_tokens = std::max(sched.max_batched_tokens, sched.max_model_len);
  std::string perf = options.profiles_dir.empty()
                         ? absl::StrCat("serving_stack: ", options.serving_stack, "\n")
                         : absl::StrCat("perf_model: {type: calibrated, profiles: \"", options.profiles_dir, "\"}\n");
  out.scenario_yaml = absl::StrFormat(
      "# %s:%d (%s, %s, %s, TP %d, %s %d)\n"
      "name: validate-%s-%d\nseed: 1\ncluster: auto\nmodel: %s\n%s"
      "deployment:\n  - name: measured\n    gpu: %s\n    tensor_parallel: %d\n    replicas: 1\n"
      "    max_batch_size: %d\n    max_batched_tokens: %d\n    max_model_len: %d\n"
      "    gpu_memory_utilization: %g\n    scheduler: %s\n"
      "router: round_robin\nworkload:\n  trace: {path: trace.csv, format: native}\n",
      run.origin.file, run.origin.row, run.source, run.gpu, run.model, run.tensor_parallel,
      run.kind == EndToEndRun::Kind::kFixedBatch ? "batch" : "max_num_seqs", run.batch, run.source, run.origin.row,
      run.model, perf, run.gpu, run.tensor_parallel, sched.max_batch_size, sched.max_batched_tokens, sched.max_model_len,
      options.assumptions.gpu_memory_utilization, sched.scheduler);
  out.scenario_yaml += options.extra_yaml;
  return out;
}

absl::StatusOr<std::vector<SimulatedRun>> SimulateEndToEndRuns(const std::vector<EndToEndRun>& runs,
                                                               const EndToEndValidationOptions& options) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "gpufleet-validate-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("cannot create a temporary folder in " + fs::temp_directory_path().string());
  const fs::path work(tmpl);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{work};

  std::vector<SimulatedRun> out(runs.size());
  std::vector<std::vector<std::string>> jobs;
  std::vector<size_t> job_run;  // the run each job simulates
  for (size_t i = 0; i < runs.size(); ++i) {
    out[i].run = &runs[i];
    auto sc = ScenarioForRun(runs[i], options);
    if (!sc.ok()) {
      out[i].error = std::string(sc.status().message());
      continue;
    }
    const fs::path d = work / std::to_string(i);
    fs::create_directories(d);
    std::ofstream(d / "scenario.yaml") << sc->scenario_yaml;
    std::ofstream(d / "trace.csv") << sc->trace_csv;
    std::vector<std::string> args = {"simulate", (d / "scenario.yaml").string(), "--json", "--no-progress"};
    if (runs[i].kind == EndToEndRun::Kind::kClosedLoop) {
      args.insert(args.end(), {"--series-interval", absl::StrCat(kSeriesInterval), "--series-csv", (d / "series.csv").string()});
    }
    if (!options.catalog_dir.empty()) args.insert(args.end(), {"--catalog", options.catalog_dir});
    jobs.push_back(std::move(args));
    job_run.push_back(i);
  }
  auto progress = [&](size_t done, size_t total) {
    std::fprintf(stderr, "\rsimulated %zu of %zu runs%s", done, total, done == total ? "\n" : "");
  };
  GF_ASSIGN_OR_RETURN(std::vector<JobResult> results,
                      RunJobs(options.binary, jobs, options.jobs, options.progress ? progress : std::function<void(size_t, size_t)>()));
  for (size_t k = 0; k < results.size(); ++k) {
    const size_t i = job_run[k];
    SimulatedRun& r = out[i];
    if (!results[k].ok()) {
      r.error = absl::StrCat("simulation ", DescribeWaitStatus(results[k].wait_status), ": ", results[k].error_line);
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(results[k].out, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      r.error = "simulation printed no JSON summary";
      continue;
    }
    r.perf_model = j.value("perf_model", "");
    const fs::path d = work / std::to_string(i);
    const Steady steady = runs[i].kind == EndToEndRun::Kind::kClosedLoop
                              ? SteadyState((d / "series.csv").string(), runs[i].tensor_parallel)
                              : Steady{};
    r.metrics = MetricsOf(runs[i], j, steady);
  }
  return out;
}

}  // namespace gpufleet
