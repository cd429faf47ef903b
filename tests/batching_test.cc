// KV-block accounting and the batch schedulers' admission, budgets and preemption.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <deque>
#include <memory>

#include "policies/batching/batch_scheduler.h"
#include "policies/batching/scheduler_common.h"

namespace gpufleet {
namespace {

std::unique_ptr<BatchScheduler> Make(const std::string& type) { return testing::MakePolicy<BatchScheduler>(type); }

struct Fixture {
  std::deque<Sequence> seqs;
  ReplicaState state;
  Fixture(int64_t blocks, int block_size, int64_t max_seqs, int64_t max_tokens) {
    state.kv = KvBlockPool(blocks, block_size);
    state.limits = SchedulerLimits{max_seqs, max_tokens, 0};
  }
  Sequence* Add(uint32_t prompt, uint32_t output) {
    seqs.emplace_back();
    Sequence* s = &seqs.back();
    s->req.id = seqs.size() - 1;
    s->req.output_tokens = output;
    s->prompt_tokens = prompt;
    state.waiting.push_back(s);
    return s;
  }
  // Applies a batch the way the replica does (no timing).
  void Apply(const std::vector<ScheduledSeq>& batch) { testing::ApplyBatch(batch, &state); }
};

TEST(KvBlockPool, ReserveGrowsAndReleaseReturns) {
  KvBlockPool pool(10, 16);
  Sequence s;
  EXPECT_EQ(pool.BlocksFor(1), 1);
  EXPECT_EQ(pool.BlocksFor(16), 1);
  EXPECT_EQ(pool.BlocksFor(17), 2);
  ASSERT_TRUE(pool.Reserve(s, 33));
  EXPECT_EQ(s.blocks, 3);
  EXPECT_EQ(pool.free(), 7);
  ASSERT_TRUE(pool.Reserve(s, 40));  // still 3 blocks
  EXPECT_EQ(pool.free(), 7);
  EXPECT_FALSE(pool.Reserve(s, 16 * 11));  // needs 11 > 10
  EXPECT_EQ(s.blocks, 3);                  // unchanged on failure
  pool.Release(s);
  EXPECT_EQ(pool.free(), 10);
  EXPECT_EQ(pool.peak_used(), 3);
}

TEST(BatchingVllm, PrefillFirstThenDecodeAll) {
  Fixture f(100, 16, 8, 1000);
  auto sched = Make("vllm");
  f.Add(100, 3);
  f.Add(200, 3);
  std::vector<ScheduledSeq> batch;
  sched->Schedule(f.state, &batch);
  ASSERT_EQ(batch.size(), 2u);  // both prompts in one prefill batch
  EXPECT_EQ(batch[0].tokens, 100u);
  EXPECT_EQ(batch[1].tokens, 200u);
  EXPECT_EQ(f.state.kv.used(), 7 + 13);
  f.Apply(batch);
  f.Add(50, 1);
  sched->Schedule(f.state, &batch);  // the new prompt goes first
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].tokens, 50u);
  f.Apply(batch);
  sched->Schedule(f.state, &batch);  // then a decode step of the two running
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].tokens, 1u);
}

TEST(BatchingVllm, RespectsTokenBudgetAndSequenceLimit) {
  Fixture f(1000, 16, 2, 300);
  auto sched = Make("vllm");
  f.Add(200, 2);
  f.Add(200, 2);
  std::vector<ScheduledSeq> batch;
  sched->Schedule(f.state, &batch);
  EXPECT_EQ(batch.size(), 1u);  // 400 tokens > budget of 300
  f.Apply(batch);
  f.Add(10, 2);
  f.Add(10, 2);
  sched->Schedule(f.state, &batch);
  EXPECT_EQ(batch.size(), 1u);  // max_batch_size 2: one running + one admitted
}

TEST(BatchingVllm, PreemptsNewestWhenBlocksRunOut) {
  // 4 blocks of 4 tokens: two sequences of 8-token prompts fill the pool; the first decode step needs a block.
  Fixture f(4, 4, 8, 100);
  auto sched = Make("vllm");
  Sequence* a = f.Add(8, 5);
  Sequence* b = f.Add(8, 5);
  std::vector<ScheduledSeq> batch;
  sched->Schedule(f.state, &batch);
  ASSERT_EQ(batch.size(), 2u);
  f.Apply(batch);
  EXPECT_EQ(f.state.kv.free(), 0);
  sched->Schedule(f.state, &batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].seq, a);          // the older one keeps running
  EXPECT_EQ(b->preemptions, 1u);       // the newer one is preempted by recompute
  EXPECT_EQ(b->computed, 0u);
  EXPECT_EQ(b->blocks, 0);
  EXPECT_EQ(f.state.waiting.front(), b);
  EXPECT_LE(f.state.kv.used(), f.state.kv.total());
}

TEST(BatchingSarathi, ChunksLongPromptsAndKeepsDecodesRunning) {
  Fixture f(1000, 16, 8, 256);
  auto sched = Make("sarathi");
  Sequence* a = f.Add(100, 4);
  std::vector<ScheduledSeq> batch;
  sched->Schedule(f.state, &batch);
  f.Apply(batch);  // a prefilled, first token out
  ASSERT_EQ(a->generated, 1u);
  Sequence* b = f.Add(1000, 2);
  sched->Schedule(f.state, &batch);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].seq, a);
  EXPECT_EQ(batch[0].tokens, 1u);
  EXPECT_EQ(batch[1].seq, b);
  EXPECT_EQ(batch[1].tokens, 255u);  // the rest of the budget
  f.Apply(batch);
  EXPECT_EQ(b->generated, 0u);  // a chunk emits nothing
  int iterations = 1;
  while (b->generated == 0 && iterations < 20) {
    sched->Schedule(f.state, &batch);
    f.Apply(batch);
    ++iterations;
  }
  EXPECT_EQ(iterations, 4);  // 1000 tokens in chunks of ~255
}

TEST(BatchingRegistry, RejectsUnknownParameter) {
  auto node = YAML::Load("{type: vllm, watermrk: 0.1}");
  PolicyConfig cfg{"vllm", "s.yaml", node, "deployment[0].scheduler"};
  auto s = BatchSchedulerRegistry::Get().Create(cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("s.yaml:1:14: unknown key 'watermrk'"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("did you mean 'watermark'"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace gpufleet
