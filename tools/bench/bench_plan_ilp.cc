// Benchmark program (not a test): times SolveCapacityIlp on a Mélange-sized instance — four GPU types
// priced as in the Mélange paper (L4, A10G, A100-80GB, H100), 6×6 request-size buckets, slice factor 4 —
// with tputs and a workload drawn from a seeded generator, and reports the median solve time of several
// runs. Figures go to BENCHMARKS.md.
//
//   bench_plan_ilp [RUNS] [SEED] [TOTAL_RATE] [SLICE_FACTOR]   (defaults: 9 runs, seed 1, 40 req/s, 4)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "orchestration/plan/ilp_solver.h"

namespace {

constexpr int kSide = 6;  // prompt buckets × output buckets

// Tputs fall with prompt and output length (longer prefills, longer decodes, fewer requests per batch),
// scaled per GPU, with ±15% noise; the two 24 GiB GPUs cannot hold the longest prompts' KV cache.
gpufleet::CapacityTable MakeTable(uint64_t seed, double total_rate, int64_t slice_factor) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> noise(0.85, 1.15);
  struct Gpu {
    const char* name;
    double price, base_tput;
    bool small_memory;
  };
  const Gpu gpus[] = {{"L4", 0.70, 4.0, true},
                      {"A10G", 1.01, 5.0, true},
                      {"A100-80GB", 3.67, 22.0, false},
                      {"H100", 7.52, 45.0, false}};
  gpufleet::CapacityTable t;
  t.slice_factor = slice_factor;
  for (const Gpu& g : gpus) {
    gpufleet::GpuOption o;
    o.name = g.name;
    o.price_per_gpu_hour = g.price;
    for (int i = 0; i < kSide; ++i) {
      for (int j = 0; j < kSide; ++j) {
        const bool fits = !(g.small_memory && i == kSide - 1);
        o.tputs.push_back(fits ? g.base_tput / (std::pow(1.0 + i, 0.8) * std::pow(1.0 + j, 0.9)) * noise(rng) : 0);
      }
    }
    t.options.push_back(std::move(o));
  }
  std::exponential_distribution<double> share(1.0);
  std::vector<double> shares;
  for (int i = 0; i < kSide; ++i) {
    for (int j = 0; j < kSide; ++j) {
      shares.push_back(share(rng) / (1.0 + 0.5 * (i + j)));  // most requests short, a long tail
      t.bucket_names.push_back(absl::StrCat("[", i, "][", j, "]"));
    }
  }
  double sum = 0;
  for (double s : shares) sum += s;
  for (double s : shares) t.rates.push_back(s / sum * total_rate);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 9;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const double rate = argc > 3 ? std::atof(argv[3]) : 40;
  const int64_t slice_factor = argc > 4 ? std::atoll(argv[4]) : 4;
  if (runs < 1 || !(rate > 0) || slice_factor < 1) {
    std::fprintf(stderr, "usage: %s [RUNS] [SEED] [TOTAL_RATE] [SLICE_FACTOR]\n", argv[0]);
    return 2;
  }
  const gpufleet::CapacityTable table = MakeTable(seed, rate, slice_factor);
  std::vector<double> seconds, cpu_seconds;
  gpufleet::IlpSolution last;
  for (int r = 0; r < runs; ++r) {
    const std::clock_t cpu_start = std::clock();
    auto s = gpufleet::SolveCapacityIlp(table);
    cpu_seconds.push_back(static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    seconds.push_back(s->solve_seconds);
    last = *s;
  }
  std::sort(seconds.begin(), seconds.end());
  std::sort(cpu_seconds.begin(), cpu_seconds.end());
  std::printf("4 GPU types, %d buckets, slice factor %lld, %g req/s, seed %llu\n", kSide * kSide,
              static_cast<long long>(table.slice_factor), rate, static_cast<unsigned long long>(seed));
  std::printf("mix:");
  for (size_t o = 0; o < table.options.size(); ++o) {
    std::printf(" %s %lld", table.options[o].name.c_str(), static_cast<long long>(last.units[o]));
  }
  std::printf("  cost %.2f $/h  %s  gap %.4f%%\n", last.total_cost, gpufleet::IlpStatusName(last.status),
              100 * last.relative_gap);
  std::printf("solve time over %d runs: median %.4f s  min %.4f s  max %.4f s  (CPU median %.4f s)\n", runs,
              seconds[seconds.size() / 2], seconds.front(), seconds.back(), cpu_seconds[cpu_seconds.size() / 2]);
  return 0;
}
