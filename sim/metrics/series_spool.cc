// See series_spool.h. Samples are stored as their in-memory bytes: the file lives only as long as this
// process, so a portable encoding would buy nothing, and raw bytes read back bit-exact.
#include "sim/metrics/series_spool.h"

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

static_assert(std::is_trivially_copyable_v<SeriesSample>);
constexpr size_t kReadBatch = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<SeriesSpool>> SeriesSpool::Create() {
  std::FILE* f = std::tmpfile();
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("time series: cannot create a temporary file: ", std::strerror(errno)));
  }
  return std::unique_ptr<SeriesSpool>(new SeriesSpool(f));
}

SeriesSpool::~SeriesSpool() { std::fclose(file_); }

absl::Status SeriesSpool::Append(std::span<const SeriesSample> batch) {
  if (failed_) return absl::InternalError("time series: an earlier write to the temporary file failed");
  if (batch.empty()) return absl::OkStatus();
  if (std::fseek(file_, 0, SEEK_END) != 0 ||
      std::fwrite(batch.data(), sizeof(SeriesSample), batch.size(), file_) != batch.size()) {
    failed_ = true;
    return absl::InternalError(
        absl::StrCat("time series: cannot write the temporary file (disk full?): ", std::strerror(errno)));
  }
  size_ += static_cast<int64_t>(batch.size());
  return absl::OkStatus();
}

absl::Status SeriesSpool::ForEach(const std::function<absl::Status(const SeriesSample&)>& fn) const {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
    return absl::InternalError(absl::StrCat("time series: cannot read the temporary file: ", std::strerror(errno)));
  }
  std::vector<SeriesSample> buf(kReadBatch);
  int64_t left = size_;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(left, kReadBatch));
    if (std::fread(buf.data(), sizeof(SeriesSample), want, file_) != want) {
      return absl::InternalError("time series: the temporary file was cut short");
    }
    for (size_t i = 0; i < want; ++i) {
      if (absl::Status s = fn(buf[i]); !s.ok()) return s;
    }
    left -= static_cast<int64_t>(want);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SeriesSample>> SeriesSpool::ReadAll() const {
  std::vector<SeriesSample> all;
  all.reserve(static_cast<size_t>(size_));
  absl::Status s = ForEach([&all](const SeriesSample& x) {
    all.push_back(x);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return all;
}

}  // namespace gpufleet
