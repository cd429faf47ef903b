// The run's time series on its way to its outputs. The engine's sampler appends samples in batches as the
// run goes; the spool keeps them in an anonymous temporary file (unlinked from the start, so nothing is left
// behind even after kill -9), not in memory: a long run's series costs disk, never RAM. The CSV writer and
// the SQLite report then read them back in order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/metrics/series.h"

namespace gpufleet {

class SeriesSpool {
 public:
  // Opens the temporary file (in $TMPDIR or /tmp).
  static absl::StatusOr<std::unique_ptr<SeriesSpool>> Create();
  ~SeriesSpool();
  SeriesSpool(const SeriesSpool&) = delete;
  SeriesSpool& operator=(const SeriesSpool&) = delete;

  // Appends in order. A failed write (disk full) is an error; the spool then refuses further samples.
  absl::Status Append(std::span<const SeriesSample> batch);
  int64_t size() const { return size_; }

  // Calls `fn` on every sample in order, stopping at its first error.
  absl::Status ForEach(const std::function<absl::Status(const SeriesSample&)>& fn) const;
  // Every sample in memory (tests and small runs).
  absl::StatusOr<std::vector<SeriesSample>> ReadAll() const;

 private:
  explicit SeriesSpool(std::FILE* f) : file_(f) {}
  std::FILE* file_;
  int64_t size_ = 0;
  bool failed_ = false;
};

}  // namespace gpufleet
