// The orca, static and priority batch schedulers: each one's defining behaviour on a hand-built replica
// state, then each end to end from a scenario (every request completes exactly once).
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "absl/strings/str_format.h"
#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

// A scheduler with parameters, e.g. Make("{type: static, max_wait_s: 1}").
std::unique_ptr<BatchScheduler> Make(const std::string& flow) {
  PolicyConfig cfg;
  cfg.file = "test";
  cfg.what = "deployment[0].scheduler";
  cfg.node = YAML::Load(flow.front() == '{' ? flow : "{type: " + flow + "}");
  cfg.type = cfg.node["type"].Scalar();
  auto s = BatchSchedulerRegistry::Get().Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

struct Fixture {
  std::deque<Sequence> seqs;
  ReplicaState state;
  std::vector<ScheduledSeq> batch;
  Fixture(int64_t blocks, int block_size, int64_t max_seqs, int64_t max_tokens) {
    state.kv = KvBlockPool(blocks, block_size);
    state.limits = SchedulerLimits{max_seqs, max_tokens, 0};
  }
  Sequence* Add(uint32_t prompt, uint32_t output, int32_t priority = 0) {
    seqs.emplace_back();
    Sequence* s = &seqs.back();
    s->req.id = seqs.size() - 1;
    s->req.arrival_s = state.now_s;
    s->req.output_tokens = output;
    s->req.priority = priority;
    s->prompt_tokens = prompt;
    state.waiting.push_back(s);
    return s;
  }
  void Schedule(BatchScheduler& sched) {
    state.swap_s = 0;
    state.wake_at_s = -1;
    sched.Schedule(state, &batch);
  }
  // Applies the batch the way the replica does (no timing): finished sequences leave and free their blocks.
  void Apply() { testing::ApplyBatch(batch, &state); }
  uint32_t TokensOf(const Sequence* s) const {
    for (const auto& b : batch)
      if (b.seq == s) return b.tokens;
    return 0;
  }
};

// --- orca ---

TEST(BatchingOrca, MixesWholePromptsWithDecodesInOneIteration) {
  Fixture f(1000, 16, 8, 1000);
  auto sched = Make("orca");
  Sequence* a = f.Add(100, 4);
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 1u);
  EXPECT_EQ(f.batch[0].tokens, 100u);
  EXPECT_EQ(a->blocks, f.state.kv.BlocksFor(104)) << "Orca reserves prompt + output at admission";
  f.Apply();
  ASSERT_EQ(a->generated, 1u);
  Sequence* b = f.Add(300, 2);
  Sequence* c = f.Add(200, 2);
  f.Schedule(*sched);
  // One iteration: a's decode step and both prompts, whole (vLLM v0 would run the prompts alone).
  ASSERT_EQ(f.batch.size(), 3u);
  EXPECT_EQ(f.TokensOf(a), 1u);
  EXPECT_EQ(f.TokensOf(b), 300u);
  EXPECT_EQ(f.TokensOf(c), 200u);
}

TEST(BatchingOrca, NeverCutsAPromptToFitTheBudget) {
  Fixture f(1000, 16, 8, 400);
  auto sched = Make("orca");
  Sequence* a = f.Add(100, 4);
  f.Schedule(*sched);
  f.Apply();
  Sequence* b = f.Add(350, 2);  // 1 decode + 350 > 400? no: 351 fits
  Sequence* c = f.Add(100, 2);  // 451 > 400: waits whole for the next iteration
  f.Schedule(*sched);
  EXPECT_EQ(f.TokensOf(a), 1u);
  EXPECT_EQ(f.TokensOf(b), 350u);
  EXPECT_EQ(f.TokensOf(c), 0u);
  EXPECT_EQ(f.state.waiting.front(), c);
}

TEST(BatchingOrca, PagedReservationGrowsBlockByBlock) {
  Fixture f(1000, 16, 8, 1000);
  auto sched = Make("{type: orca, reserve: paged}");
  Sequence* a = f.Add(100, 400);
  f.Schedule(*sched);
  EXPECT_EQ(a->blocks, f.state.kv.BlocksFor(100));
}

// --- static ---

TEST(BatchingStatic, NoSecondBatchStartsBeforeTheFirstFinishes) {
  Fixture f(1000, 16, 2, 1000);
  auto sched = Make("static");
  Sequence* a = f.Add(10, 5);
  Sequence* b = f.Add(10, 1);
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 2u);  // prefilled together
  EXPECT_EQ(a->blocks, f.state.kv.BlocksFor(15)) << "prompt + whole output reserved at admission";
  f.Apply();
  EXPECT_TRUE(b->finished());
  Sequence* c = f.Add(10, 1);
  for (int step = 0; step < 4; ++step) {
    f.Schedule(*sched);
    // b finished, yet its slot stays empty: only a decodes until it is done.
    ASSERT_EQ(f.batch.size(), 1u) << "step " << step;
    EXPECT_EQ(f.batch[0].seq, a);
    EXPECT_EQ(f.batch[0].tokens, 1u);
    f.Apply();
  }
  EXPECT_TRUE(a->finished());
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 1u);  // the next batch
  EXPECT_EQ(f.batch[0].seq, c);
}

TEST(BatchingStatic, PromptsOverTheBudgetPrefillInTurnBeforeAnyDecode) {
  Fixture f(1000, 16, 8, 100);
  auto sched = Make("static");
  Sequence* a = f.Add(60, 3);
  Sequence* b = f.Add(60, 3);
  Sequence* c = f.Add(30, 3);
  for (Sequence* expected : {a, b}) {
    f.Schedule(*sched);
    EXPECT_EQ(f.state.running.size(), 3u) << "one batch of three";
    ASSERT_GE(f.batch.size(), 1u);
    EXPECT_EQ(f.batch[0].seq, expected);
    EXPECT_EQ(f.batch[0].tokens, 60u);
    f.Apply();
  }
  EXPECT_EQ(c->generated, 1u) << "c's prompt fit beside a's";
  f.Schedule(*sched);
  EXPECT_EQ(f.batch.size(), 3u) << "then all three decode together";
  for (const auto& s : f.batch) EXPECT_EQ(s.tokens, 1u);
}

TEST(BatchingStatic, HoldsAPartialBatchUntilMaxWaitThenStartsIt) {
  Fixture f(1000, 16, 4, 1000);
  auto sched = Make("{type: static, max_wait_s: 2}");
  f.state.now_s = 10;
  Sequence* a = f.Add(10, 3);
  f.Schedule(*sched);
  EXPECT_TRUE(f.batch.empty()) << "one of four slots filled: wait";
  EXPECT_DOUBLE_EQ(f.state.wake_at_s, 12);
  EXPECT_EQ(f.state.kv.used(), 0) << "nothing reserved while waiting";
  f.state.now_s = 11;
  Sequence* b = f.Add(10, 3);
  f.Schedule(*sched);
  EXPECT_TRUE(f.batch.empty());
  EXPECT_DOUBLE_EQ(f.state.wake_at_s, 12) << "the oldest request's wait decides";
  f.state.now_s = 12;
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 2u) << "the wait is over: the partial batch starts";
  EXPECT_EQ(f.batch[0].seq, a);
  EXPECT_EQ(f.batch[1].seq, b);
}

TEST(BatchingStatic, AFullBatchStartsWithoutWaiting) {
  Fixture f(1000, 16, 3, 1000);
  auto sched = Make("{type: static, max_wait_s: 100}");
  for (int i = 0; i < 4; ++i) f.Add(10, 3);
  f.Schedule(*sched);
  EXPECT_EQ(f.batch.size(), 3u);
  EXPECT_EQ(f.state.wake_at_s, -1);
}

// --- priority ---

TEST(BatchingPriority, WaitingQueueRunsInClassThenArrivalOrder) {
  Fixture f(1000, 16, 1, 1000);
  auto sched = Make("priority");
  Sequence* low = f.Add(10, 3, 0);
  Sequence* high = f.Add(10, 3, 2);
  Sequence* mid = f.Add(10, 3, 1);
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 1u);
  EXPECT_EQ(f.batch[0].seq, high);
  ASSERT_EQ(f.state.waiting.size(), 2u);
  EXPECT_EQ(f.state.waiting[0], mid);
  EXPECT_EQ(f.state.waiting[1], low);
}

TEST(BatchingPriority, AHigherClassPreemptsTheLowestClassMostRecentFirst) {
  Fixture f(4, 16, 8, 1000);
  auto sched = Make("{type: priority, preemption: recompute, watermark: 0}");
  // Four blocks of 16 tokens, four requests of 15 (one block each, room for one decode step).
  Sequence* old_low = f.Add(15, 50, 0);
  Sequence* mid = f.Add(15, 50, 1);
  Sequence* new_low = f.Add(15, 50, 0);
  f.state.now_s = 1;
  Sequence* other_low = f.Add(15, 50, 0);
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 4u);
  f.Apply();
  EXPECT_EQ(f.state.kv.free(), 0);
  f.state.now_s = 2;
  Sequence* high = f.Add(16, 5, 2);
  f.Schedule(*sched);
  // The high-class prompt needs a block: the newest request of the lowest class gives it up.
  EXPECT_EQ(f.TokensOf(high), 16u);
  EXPECT_EQ(other_low->preemptions, 1u);
  EXPECT_EQ(other_low->computed, 0u) << "preempted by recompute";
  EXPECT_EQ(new_low->preemptions, 0u);
  EXPECT_EQ(old_low->preemptions, 0u);
  EXPECT_EQ(mid->preemptions, 0u);
  EXPECT_EQ(f.TokensOf(other_low), 0u) << "taken out of the batch it had joined";
  EXPECT_LE(f.state.kv.used(), f.state.kv.total());
  EXPECT_EQ(f.state.preemptions, 1);
}

TEST(BatchingPriority, TheSameClassNeverPreemptsAtAdmission) {
  Fixture f(2, 16, 8, 1000);
  auto sched = Make("{type: priority, watermark: 0}");
  Sequence* a = f.Add(16, 50, 1);
  Sequence* b = f.Add(16, 50, 1);
  f.Schedule(*sched);
  f.Apply();
  Sequence* c = f.Add(16, 5, 1);
  f.Schedule(*sched);
  EXPECT_EQ(f.TokensOf(c), 0u);
  EXPECT_EQ(a->preemptions + b->preemptions, 1u) << "growth preempts the newest, as vLLM";
  EXPECT_EQ(f.state.waiting.back(), c);
}

// Preempts one sequence of `tokens` computed tokens, with the replica's costs set, and returns it.
Sequence* PreemptOne(Fixture& f, BatchScheduler& sched, uint32_t tokens) {
  Sequence* low = f.Add(tokens, 100, 0);
  f.Schedule(sched);
  f.Apply();
  EXPECT_EQ(low->computed, tokens);
  f.Add(static_cast<uint32_t>(f.state.kv.block_size()) * static_cast<uint32_t>(f.state.kv.total()) - 16, 5, 1);
  f.Schedule(sched);
  EXPECT_EQ(low->preemptions, 1u);
  return low;
}

constexpr double kKvBytesPerToken = 524288;  // Llama-2-7B: 2 x 32 layers x 4096 x 2 bytes

// A lone prefill: 4 ms of overhead and 30 us a token (roughly a 7B model on an H100).
double Prefill(int64_t tokens) { return 0.004 + 30e-6 * static_cast<double>(tokens); }

TEST(BatchingPriority, SwapsWhenPcieIsCheaperThanRecompute) {
  // 2000 tokens = 1 GiB of KV; at 64 GB/s out and back is 33 ms, recomputing them 64 ms.
  Fixture f(200, 16, 8, 4096);
  f.state.costs = {kKvBytesPerToken, 64e9, Prefill};
  auto sched = Make("{type: priority, watermark: 0}");
  Sequence* low = PreemptOne(f, *sched, 2000);
  EXPECT_TRUE(low->swapped);
  EXPECT_EQ(low->computed, 2000u) << "a swapped sequence keeps its computed tokens";
  EXPECT_EQ(low->blocks, 0);
  EXPECT_EQ(f.state.swaps, 1);
  const double one_way = kKvBytesPerToken * 2000 / 64e9;
  EXPECT_DOUBLE_EQ(f.state.swap_s, one_way) << "the swap-out is charged to the evicting iteration";
  EXPECT_DOUBLE_EQ(f.state.swapped_bytes, kKvBytesPerToken * 2000);
  // The high-class request finishes; the swapped one comes back where it stopped, paying the swap-in.
  Sequence* high = f.batch[0].seq;
  f.Apply();
  for (int i = 0; i < 10 && !high->finished(); ++i) {
    f.Schedule(*sched);
    EXPECT_EQ(f.TokensOf(low), 0u) << "no room while the high class runs";
    f.Apply();
  }
  ASSERT_TRUE(high->finished());
  f.Schedule(*sched);
  EXPECT_EQ(f.TokensOf(low), 1u) << "resumes with a decode step, no prefill";
  EXPECT_FALSE(low->swapped);
  EXPECT_DOUBLE_EQ(f.state.swap_s, one_way);
  EXPECT_DOUBLE_EQ(f.state.swapped_bytes, 0);
}

TEST(BatchingPriority, RecomputesWhenTheLinkIsSlowerThanAPrefill) {
  // 64 tokens = 32 MiB; at 2 GB/s out and back is 34 ms, recomputing them 6 ms.
  Fixture f(200, 16, 8, 4096);
  f.state.costs = {kKvBytesPerToken, 2e9, Prefill};
  auto sched = Make("{type: priority, watermark: 0}");
  Sequence* low = PreemptOne(f, *sched, 64);
  EXPECT_FALSE(low->swapped);
  EXPECT_EQ(low->computed, 0u);
  EXPECT_EQ(f.state.swaps, 0);
  EXPECT_EQ(f.state.swap_s, 0);
}

TEST(BatchingPriority, ForcedModesAndBoundedSwapSpace) {
  {
    Fixture f(200, 16, 8, 4096);
    f.state.costs = {kKvBytesPerToken, 64e9, Prefill};
    auto sched = Make("{type: priority, watermark: 0, preemption: recompute}");
    EXPECT_FALSE(PreemptOne(f, *sched, 2000)->swapped);
  }
  {
    Fixture f(200, 16, 8, 4096);
    f.state.costs = {kKvBytesPerToken, 2e9, Prefill};
    auto sched = Make("{type: priority, watermark: 0, preemption: swap}");
    EXPECT_TRUE(PreemptOne(f, *sched, 64)->swapped);
  }
  {
    Fixture f(200, 16, 8, 4096);
    f.state.costs = {kKvBytesPerToken, 64e9, Prefill};
    auto sched = Make("{type: priority, watermark: 0, swap_space_gb: 0.5}");  // 1 GiB would not fit
    EXPECT_FALSE(PreemptOne(f, *sched, 2000)->swapped);
  }
  {
    Fixture f(200, 16, 8, 4096);  // no host link figure: recompute
    auto sched = Make("{type: priority, watermark: 0, preemption: swap}");
    EXPECT_FALSE(PreemptOne(f, *sched, 2000)->swapped);
  }
}

TEST(BatchingPriority, ChunkTokensCutsPrompts) {
  Fixture f(1000, 16, 8, 1000);
  auto sched = Make("{type: priority, chunk_tokens: 256}");
  EXPECT_TRUE(sched->chunks_prefills());
  EXPECT_FALSE(Make("priority")->chunks_prefills());
  f.Add(1000, 2);
  f.Schedule(*sched);
  ASSERT_EQ(f.batch.size(), 1u);
  EXPECT_EQ(f.batch[0].tokens, 256u);
}

TEST(BatchingPolicies, ParametersAreCheckedWithLocations) {
  for (const char* bad : {"{type: priority, preemption: swop}", "{type: static, max_wait_s: -1}",
                          "{type: orca, reserve: half}", "{type: priority, chunk_tokens: -5}"}) {
    PolicyConfig cfg;
    cfg.file = "s.yaml";
    cfg.what = "deployment[0].scheduler";
    cfg.node = YAML::Load(bad);
    cfg.type = cfg.node["type"].Scalar();
    auto s = BatchSchedulerRegistry::Get().Create(cfg);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("s.yaml:1:"), std::string::npos) << s.status();
  }
}

TEST(BatchingPolicies, FactoriesDescribeEveryParameter) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"orca", {"reserve", "watermark"}},
      {"static", {"max_wait_s"}},
      {"priority", {"preemption", "chunk_tokens", "watermark", "swap_space_gb"}},
  };
  for (const auto& [name, params] : expected) {
    auto described = BatchSchedulerRegistry::Get().Describe(name);
    ASSERT_TRUE(described.ok()) << name << ": " << described.status();
    std::vector<std::string> names;
    for (const ParamInfo& p : *described) names.push_back(p.name);
    EXPECT_EQ(names, params) << name;
  }
}

// --- end to end ---

using testing::RealCatalog;

// A native trace of `n` requests: Poisson arrivals at `rate`, lognormal sizes, priorities 0..2.
std::string WriteTrace(const std::string& dir, int n, double rate, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  std::lognormal_distribution<double> prompt(std::log(600.0), 0.8), output(std::log(200.0), 0.7);
  std::uniform_int_distribution<int> cls(0, 2);
  std::string text = "arrival_s,prompt_tokens,output_tokens,priority\n";
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += gap(rng);
    const int p = static_cast<int>(std::clamp(prompt(rng), 1.0, 3000.0));
    const int o = static_cast<int>(std::clamp(output(rng), 1.0, 900.0));
    text += absl::StrFormat("%.6f,%d,%d,%d\n", t, p, o, cls(rng));
  }
  return testing::WriteFile(dir, "trace.csv", text);
}

// `deployment` is the start of the one group's flow mapping, which the scheduler closes.
absl::StatusOr<testing::RunAndRows> RunWith(const std::string& dir, const std::string& scheduler,
                                            const std::string& deployment) {
  const std::string text = absl::StrCat("seed: 5\nhorizon_s: 120\nmodel: Llama-2-7B\n", deployment, "scheduler: ",
                                        scheduler, "}]\nrouter: round_robin\n",
                                        "workload: {trace: {path: trace.csv, format: native}}\n");
  auto s = LoadScenarioFromString(text, dir + "/s.yaml", dir, RealCatalog());
  if (!s.ok()) return s.status();
  return testing::SimulateWithRows(*s, RealCatalog());
}

// Every request completes exactly once, and the replicas' counts agree with the rows.
void ExpectEachRequestOnce(const testing::RunAndRows& run) {
  ASSERT_FALSE(run.partial) << run.stop_reason;
  ASSERT_GT(run.arrived, 0);
  std::set<uint64_t> seen;
  for (const RequestRow& r : run.rows) {
    EXPECT_TRUE(seen.insert(r.id).second) << "request " << r.id << " has two rows";
    EXPECT_EQ(r.status, RequestRow::kCompleted) << "request " << r.id;
    EXPECT_GT(r.ttft_s, 0);
    EXPECT_LE(r.ttft_s, r.e2e_s);
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), run.arrived);
  int64_t routed = 0, completed = 0;
  for (const ReplicaResult& r : run.replicas) {
    routed += r.stats.requests;
    completed += r.stats.completed;
    EXPECT_LE(r.stats.kv_blocks_peak, r.stats.kv_blocks_total);
  }
  EXPECT_EQ(routed, run.arrived);
  EXPECT_EQ(completed, run.arrived);
}

// Two L4 replicas of Llama-2-7B with little KV to spare: the pool runs dry, so preemption happens.
constexpr const char* kL4 =
    "cluster: {nodes: [{type: aws-g6.48xlarge, count: 1}]}\n"
    "deployment: [{gpu: L4, replicas: 2, gpu_memory_utilization: 0.8, ";

TEST(BatchingPoliciesE2E, OrcaServesEveryRequestOnce) {
  const std::string dir = testing::TempDir();
  WriteTrace(dir, 400, 4, 1);
  auto run = RunWith(dir, "orca", kL4 + std::string("max_batch_size: 64, "));
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
  for (const auto& r : run->replicas) EXPECT_EQ(r.stats.preemptions, 0) << "full reservation never preempts";
}

TEST(BatchingPoliciesE2E, StaticServesEveryRequestOnce) {
  const std::string dir = testing::TempDir();
  WriteTrace(dir, 200, 2, 2);
  auto run = RunWith(dir, "{type: static, max_wait_s: 0.5}", kL4 + std::string("max_batch_size: 8, "));
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
}

TEST(BatchingPoliciesE2E, PriorityServesEveryRequestOnceAndFavoursHighClasses) {
  const std::string dir = testing::TempDir();
  const std::string trace = WriteTrace(dir, 500, 6, 3);
  auto run = RunWith(dir, "{type: priority, chunk_tokens: 512}", kL4 + std::string("max_batch_size: 64, "));
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
  int64_t preemptions = 0, swaps = 0;
  for (const auto& r : run->replicas) {
    preemptions += r.stats.preemptions;
    swaps += r.stats.swaps;
    EXPECT_GE(r.stats.swap_s, 0);
  }
  EXPECT_GT(preemptions, 0) << "the scenario is meant to exhaust the KV cache";
  EXPECT_GT(swaps, 0) << "long sequences on PCIe Gen4 swap cheaper than they recompute";
  // Mean TTFT by class, from the trace's priority column.
  std::ifstream in(trace);
  std::string line;
  std::getline(in, line);
  std::vector<int> cls;
  while (std::getline(in, line)) cls.push_back(line.back() - '0');
  double sum[3] = {0, 0, 0};
  int count[3] = {0, 0, 0};
  for (const RequestRow& r : run->rows) {
    sum[cls[r.id]] += r.ttft_s;
    ++count[cls[r.id]];
  }
  EXPECT_LT(sum[2] / count[2], sum[0] / count[0]) << "the high class waits less than the low class";
}

TEST(BatchingPoliciesE2E, PriorityWholePromptsServeEveryRequestOnce) {
  const std::string dir = testing::TempDir();
  WriteTrace(dir, 300, 4, 4);
  auto run = RunWith(dir, "{type: priority, preemption: recompute}", kL4 + std::string("max_batch_size: 64, "));
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
  for (const auto& r : run->replicas) EXPECT_EQ(r.stats.swaps, 0);
}

// One replica, a constant 10 ms iteration: the batch's start dates are exact.
constexpr const char* kConstant =
    "perf_model: {type: constant, iteration_s: 0.01}\n"
    "deployment: [{gpu: H100-SXM-80GB, replicas: 1, max_batch_size: 4, ";

TEST(BatchingPoliciesE2E, StaticWaitsForItsBatchInTheEngine) {
  const std::string dir = testing::TempDir();
  // Two requests, then after a pause four that fill a batch at once, then one alone.
  testing::WriteFile(dir, "trace.csv",
                     "arrival_s,prompt_tokens,output_tokens\n0,10,3\n0.1,10,3\n"
                     "5,10,3\n5.1,10,3\n5.2,10,3\n5.3,10,3\n9,10,3\n");
  auto run = RunWith(dir, "{type: static, max_wait_s: 1}", kConstant);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
  std::vector<double> start(run->rows.size());
  for (const RequestRow& r : run->rows) start[r.id] = r.arrival_s + r.queue_s;
  // The first two wait for the oldest one's max_wait_s; the full batch starts when its fourth arrives;
  // the last waits its own max_wait_s.
  EXPECT_NEAR(start[0], 1.0, 1e-6);
  EXPECT_NEAR(start[1], 1.0, 1e-6);
  for (int i = 2; i < 6; ++i) EXPECT_NEAR(start[i], 5.3, 1e-6) << i;
  EXPECT_NEAR(start[6], 10.0, 1e-6);
  // The full batch cut its wait short: the booking it left at 6.0 is no event (the run ends with its
  // last request, 3 iterations after 10 s).
  EXPECT_NEAR(run->end_s, 10.03, 1e-6);
}

TEST(BatchingPoliciesE2E, StaticBookingCutShortDoesNotExtendTheRun) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "trace.csv", "arrival_s,prompt_tokens,output_tokens\n0,10,2\n0.1,10,2\n0.2,10,2\n0.3,10,2\n");
  auto run = RunWith(dir, "{type: static, max_wait_s: 30}", kConstant);
  ASSERT_TRUE(run.ok()) << run.status();
  ExpectEachRequestOnce(*run);
  EXPECT_NEAR(run->end_s, 0.32, 1e-6) << "the booking left at 30 s is dropped, not run";
}

}  // namespace
}  // namespace gpufleet
