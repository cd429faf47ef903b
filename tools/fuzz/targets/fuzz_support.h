// Helpers shared by the fuzz targets (tools/fuzz/targets/*.h), which the libFuzzer harnesses and the
// crash-regression test (tests/fuzz_regression_test.cc) both run. Header-only and free of libFuzzer so
// the normal gcc build of the tests compiles them too.
//
// The readers under test take file paths, so an input is written to a scratch file first (in /dev/shm
// when it exists: a write per execution on a disk would dominate the fuzzer's speed). A broken output
// contract (a reader that accepted a file and returned a non-finite arrival, say) calls Violation, which
// aborts: libFuzzer saves the input and the regression test dies, both naming what broke.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace gpufleet::fuzz {

[[noreturn]] inline void Violation(std::string_view what) {
  std::fprintf(stderr, "fuzz target: contract violated: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void Require(bool ok, std::string_view what) {
  if (!ok) Violation(what);
}

// This process's scratch folder, created on first use and removed at a normal exit.
// Never destroyed: the exit handler that removes the folder runs after static destructors would have.
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path* dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    auto* d = new fs::path(root / ("gpufleet-fuzz-" + std::to_string(::getpid())));
    fs::create_directories(*d);
    std::atexit([] { std::error_code ignored; std::filesystem::remove_all(ScratchDir(), ignored); });
    return d;
  }();
  return *dir;
}

// Writes `data` to `relative` under the scratch folder (creating its folders) and returns the path.
inline std::string WriteScratch(const std::string& relative, std::string_view data) {
  const std::filesystem::path path = ScratchDir() / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  Require(static_cast<bool>(out), "cannot write the scratch file");
  return path.string();
}

// Options taken from a fixed-size prefix of the input, so that the file's bytes after it keep their
// place whatever the options are (a mutation of one option does not shift the file). Reading past the
// prefix gives zero bytes, which choose the default of each option.
class OptionBytes {
 public:
  OptionBytes(std::string_view prefix) : bytes_(prefix) {}

  uint8_t Byte() { return pos_ < bytes_.size() ? static_cast<uint8_t>(bytes_[pos_++]) : 0; }

  // An integer in [lo, hi]; byte 0 gives lo.
  int64_t Int(int64_t lo, int64_t hi) {
    const uint16_t v = static_cast<uint16_t>(Byte() | (Byte() << 8));
    return lo + static_cast<int64_t>(v % static_cast<uint64_t>(hi - lo + 1));
  }

  // A number in [lo, hi] (0 < lo < hi): zero bytes give `fallback`, a few codes give the ends, the rest
  // spread log-uniformly over the range, where the interesting magnitudes of rates and times lie.
  double LogRange(double lo, double hi, double fallback) {
    const uint8_t code = Byte();
    const uint8_t fine = Byte();
    if (code == 0) return fallback;
    if (code == 1) return lo;
    if (code == 2) return hi;
    const double t = ((code - 3) * 256.0 + fine) / (253.0 * 256.0);  // [0, 1)
    return std::clamp(std::exp(std::log(lo) + t * (std::log(hi) - std::log(lo))), lo, hi);
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// The input split into its option prefix (`n` bytes, shorter when the input is) and the rest.
struct SplitInput {
  std::string_view options;
  std::string_view body;
};
inline SplitInput Split(const uint8_t* data, size_t size, size_t n) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t k = std::min(n, size);
  return {all.substr(0, k), all.substr(k)};
}

}  // namespace gpufleet::fuzz
