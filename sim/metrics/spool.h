// Rows on their way to a run's outputs (time-series samples, per-request rows). The engine appends them in
// batches as the run goes; the spool keeps them in an anonymous temporary file (unlinked from the start, so
// nothing is left behind even after kill -9), not in memory: a long run's rows cost disk, never RAM. The CSV
// writer and the SQLite report then read them back in order.
//
// Rows are stored as their in-memory bytes: the file lives only as long as this process, so a portable
// encoding would buy nothing, and raw bytes read back bit-exact.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace gpufleet {

template <class Row>
class Spool {
  static_assert(std::is_trivially_copyable_v<Row>);

 public:
  // Opens the temporary file (in $TMPDIR or /tmp); `what` names the rows in errors ("time series").
  static absl::StatusOr<std::unique_ptr<Spool>> Create(std::string what) {
    std::FILE* f = std::tmpfile();
    if (f == nullptr) {
      return absl::InternalError(absl::StrCat(what, ": cannot create a temporary file: ", std::strerror(errno)));
    }
    return std::unique_ptr<Spool>(new Spool(f, std::move(what)));
  }
  ~Spool() { std::fclose(file_); }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends in order. A failed write (disk full) is an error; the spool then refuses further rows.
  absl::Status Append(std::span<const Row> batch) {
    if (failed_) return absl::InternalError(absl::StrCat(what_, ": an earlier write to the temporary file failed"));
    if (batch.empty()) return absl::OkStatus();
    if (std::fseek(file_, 0, SEEK_END) != 0 || std::fwrite(batch.data(), sizeof(Row), batch.size(), file_) != batch.size()) {
      failed_ = true;
      return absl::InternalError(
          absl::StrCat(what_, ": cannot write the temporary file (disk full?): ", std::strerror(errno)));
    }
    size_ += static_cast<int64_t>(batch.size());
    return absl::OkStatus();
  }
  int64_t size() const { return size_; }

  // Calls `fn` on every row in order, stopping at its first error.
  absl::Status ForEach(const std::function<absl::Status(const Row&)>& fn) const {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
      return absl::InternalError(absl::StrCat(what_, ": cannot read the temporary file: ", std::strerror(errno)));
    }
    constexpr size_t kReadBatch = 4096;
    std::vector<Row> buf(kReadBatch);
    int64_t left = size_;
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<int64_t>(left, kReadBatch));
      if (std::fread(buf.data(), sizeof(Row), want, file_) != want) {
        return absl::InternalError(absl::StrCat(what_, ": the temporary file was cut short"));
      }
      for (size_t i = 0; i < want; ++i) {
        if (absl::Status s = fn(buf[i]); !s.ok()) return s;
      }
      left -= static_cast<int64_t>(want);
    }
    return absl::OkStatus();
  }
  // Every row in memory (tests and small runs).
  absl::StatusOr<std::vector<Row>> ReadAll() const {
    std::vector<Row> all;
    all.reserve(static_cast<size_t>(size_));
    absl::Status s = ForEach([&all](const Row& x) {
      all.push_back(x);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return all;
  }

 private:
  Spool(std::FILE* f, std::string what) : file_(f), what_(std::move(what)) {}
  std::FILE* file_;
  std::string what_;
  int64_t size_ = 0;
  bool failed_ = false;
};

}  // namespace gpufleet
