#include "traces/csv_line_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gpufleet {

absl::StatusOr<std::unique_ptr<CsvLineReader>> CsvLineReader::Open(const std::string& path,
                                                                    size_t buffer_bytes) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open trace file"));
  struct stat st;
  int64_t size = -1;
  if (fstat(fileno(file), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      std::fclose(file);
      return absl::NotFoundError(absl::StrCat(path, ": cannot open trace file (it is a directory)"));
    }
    if (S_ISREG(st.st_mode)) size = static_cast<int64_t>(st.st_size);
  }
  std::setvbuf(file, nullptr, _IONBF, 0);  // we buffer ourselves
  if (buffer_bytes < 4096) buffer_bytes = 4096;
  return std::unique_ptr<CsvLineReader>(new CsvLineReader(path, file, size, buffer_bytes));
}

CsvLineReader::CsvLineReader(std::string path, std::FILE* file, int64_t file_bytes, size_t buffer_bytes)
    : path_(std::move(path)), file_(file), file_bytes_(file_bytes), buffer_(buffer_bytes) {}

CsvLineReader::~CsvLineReader() { std::fclose(file_); }

bool CsvLineReader::Refill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than the buffer
  const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  end_ += got;
  if (got == 0) {
    eof_ = true;
    if (std::ferror(file_)) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": read error after ", bytes_consumed_,
                                                 " bytes: ", std::strerror(errno)));
    }
    return false;
  }
  return true;
}

bool CsvLineReader::NextLine(absl::string_view* line) {
  size_t scanned = begin_;  // bytes before this offset are known to hold no '\n'
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    size_t len;
    size_t consumed;
    if (nl != nullptr) {
      len = static_cast<const char*>(nl) - start;
      consumed = len + 1;
    } else {
      const size_t pending = end_ - begin_;
      if (Refill()) {
        scanned = begin_ + pending;
        continue;
      }
      if (!status_.ok() || end_ == begin_) return false;
      start = buffer_.data() + begin_;
      len = end_ - begin_;  // last line without a final newline
      consumed = len;
    }
    begin_ += consumed;
    bytes_consumed_ += consumed;
    ++line_number_;
    if (len > 0 && start[len - 1] == '\r') --len;
    if (line_number_ == 1 && len >= 3 && std::memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
      start += 3;
      len -= 3;
    }
    *line = absl::string_view(start, len);
    return true;
  }
}

double CsvLineReader::Progress() const {
  if (file_bytes_ < 0) return -1;
  if (file_bytes_ == 0) return 1;
  const double p = static_cast<double>(bytes_consumed_) / static_cast<double>(file_bytes_);
  return p > 1 ? 1 : p;
}

}  // namespace gpufleet
