// A replica's cache of shared prompt prefixes (automatic prefix caching, as vLLM and SGLang do).
//
// Requests of one prefix group (TraceRequest::prefix_id) begin with the same prefix_tokens tokens. A
// replica that holds a group's prefix skips its prefill: the request starts with those tokens computed
// and reads their KV blocks from the cache instead of holding its own. The cache is a share of the
// replica's KV pool set aside at start (deployment[].prefix_cache), with whole-block entries evicted least
// recently used; an entry a running request reads is pinned. A request that misses computes the prefix
// and, once its first token is out, leaves a copy in the cache (if it fits). Simplification, said in
// docs/policies.md: real caches share blocks with the running requests and evict from the whole pool.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

namespace gpufleet {

struct PrefixCacheStats {
  int64_t lookups = 0;      // requests with a shared prefix that reached the replica
  int64_t hits = 0;         // of those, found their prefix cached
  int64_t hit_tokens = 0;   // prompt tokens whose prefill the cache saved
  int64_t evictions = 0;
};

class PrefixCache {
 public:
  PrefixCache() = default;
  PrefixCache(int64_t capacity_blocks, int block_size) : capacity_blocks_(capacity_blocks), block_size_(block_size) {}
  bool enabled() const { return capacity_blocks_ > 0; }
  int64_t capacity_blocks() const { return capacity_blocks_; }

  // The cached tokens of `prefix_id`'s prefix that a request with `prefix_tokens` of it can use (whole
  // blocks), pinning the entry until Unpin; 0 on a miss.
  int64_t Lookup(uint32_t prefix_id, uint32_t prefix_tokens);
  void Unpin(uint32_t prefix_id);
  // Stores `prefix_id`'s first `prefix_tokens` tokens (whole blocks), evicting unpinned entries least
  // recently used first; does nothing when they cannot fit or an entry at least as long is there.
  void Insert(uint32_t prefix_id, uint32_t prefix_tokens);
  const PrefixCacheStats& stats() const { return stats_; }

 private:
  struct Entry {
    int64_t blocks = 0;
    int64_t pins = 0;
    std::list<uint32_t>::iterator lru;  // position in lru_ (front = most recent)
  };
  int64_t capacity_blocks_ = 0;
  int block_size_ = 16;
  int64_t used_blocks_ = 0;
  std::unordered_map<uint32_t, Entry> entries_;
  std::list<uint32_t> lru_;
  PrefixCacheStats stats_;
};

}  // namespace gpufleet
