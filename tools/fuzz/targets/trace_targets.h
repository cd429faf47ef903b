// Fuzz targets for the trace readers (traces/): the Azure and native CSV streams, and the workload
// pipeline that reshapes them (superposition, rate multiplier, window, cap, horizon) or resamples
// lengths from them for a synthetic workload.
//
// Besides "no crash", each checks what the rest of the simulator relies on: a stream that returns a
// request returns ids 0, 1, 2, ..., finite non-decreasing arrivals >= 0 and token counts >= 1. The CSV
// targets also read each file twice, with the smallest line buffer (lines cross refills) and one that
// holds the whole file, and require the same requests and the same error; when the whole file reads
// cleanly, the trace's extent (first and last arrival, row count) and its length pairs must agree with
// the stream.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tools/fuzz/targets/fuzz_support.h"
#include "traces/request_stream.h"
#include "traces/trace_extent.h"
#include "traces/trace_file.h"
#include "traces/workload_spec.h"
#include "traces/workload_stream.h"

namespace gpufleet::fuzz {

struct Drained {
  std::vector<TraceRequest> requests;
  absl::Status status;  // the error that ended the stream, or OK at its end (or at `limit`)
};

// Pulls up to `limit` requests, checking each against the stream contract.
inline Drained Drain(RequestStream& stream, size_t limit) {
  Drained d;
  TraceRequest r;
  while (d.requests.size() < limit) {
    absl::StatusOr<bool> more = stream.Next(&r);
    if (!more.ok()) {
      d.status = more.status();
      Require(!d.status.message().empty(), "an error without a message");
      break;
    }
    if (!*more) break;
    Require(r.id == d.requests.size(), "ids are not 0, 1, 2, ...");
    Require(std::isfinite(r.arrival_s) && r.arrival_s >= 0, "an arrival that is not a finite number >= 0");
    Require(d.requests.empty() || r.arrival_s >= d.requests.back().arrival_s, "arrivals go back in time");
    Require(r.prompt_tokens >= 1 && r.output_tokens >= 1, "a request with no prompt or output tokens");
    const double p = stream.Progress();
    Require(p == -1 || (p >= 0 && p <= 1), "progress outside [0, 1]");
    d.requests.push_back(r);
  }
  return d;
}

inline bool SameRequest(const TraceRequest& a, const TraceRequest& b) {
  return a.id == b.id && a.arrival_s == b.arrival_s && a.prompt_tokens == b.prompt_tokens &&
         a.output_tokens == b.output_tokens && a.priority == b.priority && a.service_class == b.service_class;
}

// One trace file in `format` ("azure" or "native"): see the file comment.
inline int FuzzTraceFile(const uint8_t* data, size_t size, const char* format) {
  const std::string path = WriteScratch(std::string("trace-") + format + ".csv",
                                        std::string_view(reinterpret_cast<const char*>(data), size));
  Drained by_buffer[2];
  // 1: the reader's minimum (4 KiB), so lines cross refills; 16 KiB holds any input (run.sh's -max_len)
  // in one read, as the default 1 MiB buffer would, without allocating 1 MiB per execution.
  const size_t buffers[2] = {1, 16384};
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::unique_ptr<RequestStream>> stream = OpenTraceFile(path, format, buffers[i]);
    if (!stream.ok()) {
      Require(!stream.status().message().empty(), "an error without a message");
      by_buffer[i].status = stream.status();
      continue;
    }
    by_buffer[i] = Drain(**stream, std::numeric_limits<size_t>::max());
  }
  const Drained& a = by_buffer[0];
  const Drained& b = by_buffer[1];
  Require(a.status == b.status, "the line buffer's size changes the error");
  Require(a.requests.size() == b.requests.size(), "the line buffer's size changes the row count");
  for (size_t i = 0; i < a.requests.size(); ++i) {
    Require(SameRequest(a.requests[i], b.requests[i]), "the line buffer's size changes a row");
  }
  if (!b.status.ok()) return 0;

  // A clean file: what superposition and resampling read from it must agree with the stream.
  absl::StatusOr<TraceExtent> extent = ReadTraceExtent(path, format);
  Require(extent.ok(), "a file that streams cleanly has no extent");
  absl::StatusOr<std::vector<LengthPair>> pairs = LoadLengthPairs(path, format);
  if (b.requests.empty()) {
    Require(extent->rows == 0, "an extent with rows for a trace without any");
    Require(!pairs.ok(), "length pairs from a trace without rows");
    return 0;
  }
  Require(extent->first_arrival_s == b.requests.front().arrival_s, "the extent's first arrival differs");
  Require(extent->last_arrival_s == b.requests.back().arrival_s, "the extent's last arrival differs");
  Require(!extent->rows_exact || extent->rows == static_cast<int64_t>(b.requests.size()),
          "the extent's exact row count differs");
  Require(std::isfinite(extent->period_s()) && extent->period_s() >= 0, "a trace period that is not finite");
  Require(pairs.ok() && pairs->size() == b.requests.size(), "length pairs differ from the stream's rows");
  for (size_t i = 0; i < pairs->size(); ++i) {
    Require((*pairs)[i].prompt_tokens == b.requests[i].prompt_tokens &&
                (*pairs)[i].output_tokens == b.requests[i].output_tokens,
            "a length pair differs from its row");
  }
  return 0;
}

inline int FuzzAzureCsv(const uint8_t* data, size_t size) { return FuzzTraceFile(data, size, "azure"); }
inline int FuzzNativeCsv(const uint8_t* data, size_t size) { return FuzzTraceFile(data, size, "native"); }

// The workload pipeline: a 16-byte option prefix, then a trace file. Options stay within what the
// scenario loader accepts (sim/scenario/scenario_loader.cc), so anything found is reachable from a
// scenario: superpose 1..8 (of 1..1000), rate multiplier [1e-6, 1e6], a window, max_requests >= 1,
// horizon > 0 or none; a synthetic source resamples its lengths from the file.
inline constexpr size_t kWorkloadOptionBytes = 16;

inline int FuzzWorkload(const uint8_t* data, size_t size) {
  const SplitInput in = Split(data, size, kWorkloadOptionBytes);
  OptionBytes opt(in.options);
  const uint8_t kind = opt.Byte();
  const char* format = (kind & 1) ? "native" : "azure";
  const std::string path = WriteScratch("workload.csv", in.body);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  WorkloadSpec spec;
  if (kind & 2) {
    spec.source = WorkloadSpec::Source::kSynthetic;
    spec.arrival = (kind & 4) ? "gamma" : "poisson";
    spec.rate_rps = opt.LogRange(1e-9, 1e9, 10);
    spec.cv = opt.LogRange(0.01, 100, 1);
    spec.resample_path = path;
    spec.resample_format = format;
  } else {
    spec.source = WorkloadSpec::Source::kTrace;
    spec.trace_path = path;
    spec.trace_format = format;
    spec.superpose = static_cast<int>(1 + opt.Byte() % 8);
  }
  spec.rate_multiplier = opt.LogRange(1e-6, 1e6, 1);
  if (kind & 8) {
    spec.window_start_s = (kind & 16) ? 0 : opt.LogRange(1e-9, 1e9, 1);
    spec.window_end_s = spec.window_start_s + opt.LogRange(1e-9, 1e9, 60);
  }
  if (kind & 32) spec.max_requests = opt.Int(1, 3000);
  double horizon_s = kInf;
  if ((kind & 64) || spec.source == WorkloadSpec::Source::kSynthetic) horizon_s = opt.LogRange(1e-9, 1e9, 300);

  absl::StatusOr<std::unique_ptr<RequestStream>> stream = MakeRequestStream(spec, /*seed=*/kind, horizon_s);
  if (!stream.ok()) {
    Require(!stream.status().message().empty(), "an error without a message");
    return 0;
  }
  // A synthetic stream at 1e9 requests/s over a long horizon is endless for a fuzzer: a prefix is enough
  // (longer than any cap above, so that the cap is checked).
  const Drained d = Drain(**stream, 4000);
  Require(d.requests.size() <= static_cast<uint64_t>(spec.max_requests), "more requests than max_requests");
  for (const TraceRequest& r : d.requests) {
    Require(r.arrival_s < horizon_s, "an arrival at or after the horizon");
    // Rebasing rounds, but monotonically: an arrival before the end stays at or before end - start.
    Require(r.arrival_s <= spec.window_end_s - spec.window_start_s, "an arrival after the window");
  }
  return 0;
}

}  // namespace gpufleet::fuzz
