// FNV-1a, 64 bit: the content digest behind run identities, sweep point keys, plan cache keys and the
// measurement-set digests of calibration profiles. Stable across processes and machines (unlike
// absl::Hash), which is all these uses need; none of them is a security boundary.
#pragma once

#include <cstdint>
#include <string_view>

namespace gpufleet {

inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;

// `h` continues an earlier digest, so that several pieces hash as their concatenation.
inline uint64_t Fnv1a(std::string_view bytes, uint64_t h = kFnv1aOffset) {
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

}  // namespace gpufleet
