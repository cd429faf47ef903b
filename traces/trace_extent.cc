#include "traces/trace_extent.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "traces/azure_csv_stream.h"
#include "traces/csv_fields.h"
#include "traces/native_csv_stream.h"
#include "traces/trace_file.h"

namespace gpufleet {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Line statistics of a block of the file.
struct BlockLines {
  std::string last_data_line;
  bool found = false;
  int64_t data_lines = 0;   // complete data lines
  uint64_t line_bytes = 0;  // bytes of the complete lines, line endings included
};

// Scans buf; a partial first line (unless `starts_line`) and a line cut by the end of the block
// (unless `ends_file`) are left out.
BlockLines ScanBlock(const std::string& buf, bool starts_line, bool ends_file, bool native) {
  BlockLines b;
  size_t pos = 0;
  if (!starts_line) {
    const size_t nl = buf.find('\n');
    pos = nl == std::string::npos ? buf.size() : nl + 1;
  }
  while (pos < buf.size()) {
    const size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos && !ends_file) break;
    const size_t end = nl == std::string::npos ? buf.size() : nl;
    absl::string_view line(buf.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    b.line_bytes += (nl == std::string::npos ? end : end + 1) - pos;
    if (!(native ? IsNativeSkippedLine(line) : IsBlankLine(line))) {
      ++b.data_lines;
      b.last_data_line.assign(line.data(), line.size());
      b.found = true;
    }
    pos = nl == std::string::npos ? buf.size() : nl + 1;
  }
  return b;
}

// The last data line of the file and the data-row count: exact when the tail block covers the whole
// data region, else estimated from the data size and the mean line length of a head and a tail block.
struct Tail {
  std::string last_line;
  bool found = false;
  bool exact = false;
  int64_t rows = 0;
};

absl::Status ReadBlock(std::FILE* file, const std::string& path, uint64_t start, uint64_t size,
                       std::string* buf) {
  buf->resize(size);
  if (fseeko(file, static_cast<off_t>(start), SEEK_SET) != 0 ||
      std::fread(buf->data(), 1, buf->size(), file) != buf->size()) {
    return absl::DataLossError(absl::StrCat(path, ": cannot read the trace file at byte ", start));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tail> ReadTail(const std::string& path, uint64_t data_start, bool native) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open trace file"));
  if (fseeko(file.get(), 0, SEEK_END) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot seek in the trace file; expected a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(ftello(file.get()));
  const uint64_t data_bytes = size > data_start ? size - data_start : 0;
  constexpr uint64_t kBlock = 64 * 1024;
  std::string buf;
  Tail tail;
  BlockLines end_block;
  for (uint64_t block = kBlock;; block *= 8) {
    const bool whole = data_bytes <= block;
    const uint64_t start = whole ? data_start : size - block;
    if (absl::Status s = ReadBlock(file.get(), path, start, size - start, &buf); !s.ok()) return s;
    end_block = ScanBlock(buf, whole, true, native);
    if (end_block.found || whole) {
      tail.found = end_block.found;
      tail.last_line = std::move(end_block.last_data_line);
      if (whole) {
        tail.exact = true;
        tail.rows = end_block.data_lines;
        return tail;
      }
      break;
    }
  }
  // Estimate: data lines per byte, averaged over a block at each end of the data region.
  if (absl::Status s = ReadBlock(file.get(), path, data_start, kBlock, &buf); !s.ok()) return s;
  const BlockLines head = ScanBlock(buf, true, false, native);
  const double lines = static_cast<double>(head.data_lines + end_block.data_lines);
  const double bytes = static_cast<double>(head.line_bytes + end_block.line_bytes);
  tail.rows = bytes > 0 ? static_cast<int64_t>(std::llround(lines / bytes * static_cast<double>(data_bytes))) : 0;
  return tail;
}

// Reads `stream` to its first error, for the row number of a malformed last row.
absl::Status FirstRowError(RequestStream& stream, const std::string& path) {
  TraceRequest r;
  for (;;) {
    absl::StatusOr<bool> more = stream.Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": the last row cannot be read; expected a complete row"));
}

}  // namespace

absl::StatusOr<TraceExtent> ReadTraceExtent(const std::string& path, absl::string_view format,
                                            double max_gap_s) {
  if (absl::Status s = CheckTraceFormat(format); !s.ok()) return s;
  const bool native = format == "native";
  std::unique_ptr<AzureCsvStream> azure;
  std::unique_ptr<NativeCsvStream> native_stream;
  RequestStream* stream;
  uint64_t header_bytes;
  if (native) {
    absl::StatusOr<std::unique_ptr<NativeCsvStream>> s =
        NativeCsvStream::Open(path, CsvLineReader::kDefaultBufferBytes, max_gap_s);
    if (!s.ok()) return s.status();
    native_stream = *std::move(s);
    stream = native_stream.get();
    header_bytes = native_stream->header_bytes();
  } else {
    absl::StatusOr<std::unique_ptr<AzureCsvStream>> s =
        AzureCsvStream::Open(path, CsvLineReader::kDefaultBufferBytes, max_gap_s);
    if (!s.ok()) return s.status();
    azure = *std::move(s);
    stream = azure.get();
    header_bytes = azure->header_bytes();
  }
  TraceExtent extent;
  TraceRequest first;
  absl::StatusOr<bool> more = stream->Next(&first);
  if (!more.ok()) return more.status();
  if (!*more) return extent;  // no rows
  extent.first_arrival_s = first.arrival_s;

  absl::StatusOr<Tail> tail = ReadTail(path, header_bytes, native);
  if (!tail.ok()) return tail.status();
  if (!tail->found) return FirstRowError(*stream, path);
  double last = 0;
  bool ok;
  if (native) {
    NativeRow row;
    ok = ParseNativeRow(tail->last_line, native_stream->columns(), &row).ok();
    last = row.arrival_s;
  } else {
    AzureRow row;
    ok = ParseAzureRow(tail->last_line, &row).ok();
    last = row.time.SecondsSince(azure->first_timestamp());
  }
  // The native parser bounds arrivals itself; an Azure row is bounded by its distance from the first.
  if (!ok || !(last >= extent.first_arrival_s) || !(last <= kMaxTraceArrivalS)) return FirstRowError(*stream, path);
  extent.last_arrival_s = last;

  extent.rows = tail->rows;
  extent.rows_exact = tail->exact;
  if (extent.rows < 2 && extent.span_s() > 0) extent.rows = 2;
  if (extent.rows < 1) extent.rows = 1;
  extent.mean_gap_s = extent.rows >= 2 ? extent.span_s() / static_cast<double>(extent.rows - 1) : 0;
  return extent;
}

}  // namespace gpufleet
