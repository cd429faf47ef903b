// The replica's prefix cache (see prefix_cache.h).
#include "sim/engine/prefix_cache.h"

#include <algorithm>

namespace gpufleet {

int64_t PrefixCache::Lookup(uint32_t prefix_id, uint32_t prefix_tokens) {
  ++stats_.lookups;
  auto it = entries_.find(prefix_id);
  if (it == entries_.end()) return 0;
  const int64_t tokens = std::min<int64_t>(it->second.blocks * block_size_, prefix_tokens / block_size_ * block_size_);
  if (tokens <= 0) return 0;
  ++stats_.hits;
  stats_.hit_tokens += tokens;
  ++it->second.pins;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return tokens;
}

void PrefixCache::Unpin(uint32_t prefix_id) {
  auto it = entries_.find(prefix_id);
  if (it != entries_.end() && it->second.pins > 0) --it->second.pins;
}

void PrefixCache::Insert(uint32_t prefix_id, uint32_t prefix_tokens) {
  const int64_t blocks = prefix_tokens / block_size_;  // a partial last block is not shareable
  if (blocks <= 0 || blocks > capacity_blocks_) return;
  auto found = entries_.find(prefix_id);
  if (found != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second.lru);
    if (found->second.blocks >= blocks) return;
  }
  const int64_t extra = blocks - (found != entries_.end() ? found->second.blocks : 0);
  // Evict from the least recently used end, skipping pinned entries and this one.
  for (auto it = lru_.end(); used_blocks_ + extra > capacity_blocks_ && it != lru_.begin();) {
    --it;
    Entry& e = entries_[*it];
    if (e.pins > 0 || *it == prefix_id) continue;
    used_blocks_ -= e.blocks;
    ++stats_.evictions;
    entries_.erase(*it);
    it = lru_.erase(it);
  }
  if (used_blocks_ + extra > capacity_blocks_) return;
  used_blocks_ += extra;
  if (found != entries_.end()) {
    entries_[prefix_id].blocks = blocks;
    return;
  }
  lru_.push_front(prefix_id);
  entries_[prefix_id] = Entry{blocks, 0, lru_.begin()};
}

}  // namespace gpufleet
