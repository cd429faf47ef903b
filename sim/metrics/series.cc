// CSV output of the run's time series (see series.h).
#include "sim/metrics/series.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

// Shortest text that reads back as the same double, so the CSV and the SQLite rows agree exactly.
void AppendDouble(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

absl::Status WriteSeriesCsv(const std::string& path, const std::vector<SeriesSample>& samples) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return absl::InvalidArgumentError(absl::StrCat(tmp, ": cannot write: ", std::strerror(errno)));
  std::string line =
      "t_s,replica,waiting,running,kv_used_blocks,kv_total_blocks,busy_s,util,output_tokens,completed,arrivals,"
      "power_w\n";
  bool ok = std::fputs(line.c_str(), f) >= 0;
  for (const SeriesSample& s : samples) {
    if (!ok) break;
    line.clear();
    AppendDouble(line, s.t_s);
    absl::StrAppend(&line, ",", s.replica, ",", s.waiting, ",", s.running, ",", s.kv_used_blocks, ",",
                    s.kv_total_blocks, ",");
    AppendDouble(line, s.busy_s);
    line += ',';
    AppendDouble(line, s.util);
    absl::StrAppend(&line, ",", s.output_tokens, ",", s.completed, ",", s.arrivals, ",");
    AppendDouble(line, s.power_w);
    line += '\n';
    ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    return absl::InvalidArgumentError(absl::StrCat(tmp, ": write failed (disk full?)"));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace gpufleet
