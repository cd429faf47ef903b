// CSV output of the run's time series (see series.h).
#include "sim/metrics/series.h"

#include <charconv>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "sim/util/atomic_file.h"

namespace gpufleet {
namespace {

// Shortest text that reads back as the same double, so the CSV and the SQLite rows agree exactly.
void AppendDouble(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

absl::Status WriteSeriesCsv(const std::string& path, const SeriesSpool& samples) {
  absl::Status read = absl::OkStatus();
  absl::Status written = WriteFileAtomically(path, [&samples, &read](std::ostream& out) {
    out << "t_s,replica,waiting,running,kv_used_blocks,kv_total_blocks,busy_s,util,output_tokens,completed,"
           "arrivals,power_w\n";
    std::string line;
    read = samples.ForEach([&](const SeriesSample& s) {
      if (!out) return absl::OkStatus();  // WriteFileAtomically reports the stream's failure
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
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
      return absl::OkStatus();
    });
    // A spool that cannot be read must not become a whole-looking CSV: fail the stream, drop the temporary.
    if (!read.ok()) out.setstate(std::ios::failbit);
  });
  return read.ok() ? written : read;
}

}  // namespace gpufleet
