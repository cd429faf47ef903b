// Buffered, forward-only line reader for trace files: hands out one line at a time (without the line
// ending) together with its 1-based line number and the share of the file's bytes consumed so far.
// Memory is one buffer (1 MiB by default, grown only for a longer line), whatever the file size.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gpufleet {

class CsvLineReader {
 public:
  static constexpr size_t kDefaultBufferBytes = size_t{1} << 20;

  // Opens `path` for reading. A missing or unreadable file gives
  // NotFoundError("PATH: cannot open trace file").
  static absl::StatusOr<std::unique_ptr<CsvLineReader>> Open(const std::string& path,
                                                              size_t buffer_bytes = kDefaultBufferBytes);
  ~CsvLineReader();
  CsvLineReader(const CsvLineReader&) = delete;
  CsvLineReader& operator=(const CsvLineReader&) = delete;

  // Sets *line to the next line, without "\n" / "\r\n" (and without a UTF-8 byte-order mark on line 1),
  // valid until the next call. Returns false at the end of the file or on a read error (see status()).
  bool NextLine(absl::string_view* line);
  // OK, or the read error that ended the file early.
  const absl::Status& status() const { return status_; }

  const std::string& path() const { return path_; }
  // 1-based number of the line last returned by NextLine (0 before the first).
  int64_t line_number() const { return line_number_; }
  // Bytes of the file up to and including the last returned line and its line ending.
  uint64_t bytes_consumed() const { return bytes_consumed_; }
  // Size of the file when opened; -1 when unknown (a pipe).
  int64_t file_bytes() const { return file_bytes_; }
  // bytes_consumed / file_bytes in [0, 1], or -1 when the size is unknown.
  double Progress() const;

 private:
  CsvLineReader(std::string path, std::FILE* file, int64_t file_bytes, size_t buffer_bytes);
  // Moves the unread tail to the front of the buffer and reads more; false when nothing more came.
  bool Refill();

  std::string path_;
  std::FILE* file_;
  int64_t file_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unread byte
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  absl::Status status_;
  int64_t line_number_ = 0;
  uint64_t bytes_consumed_ = 0;
};

}  // namespace gpufleet
