// Fuzz targets for the calibration readers: vidur compute and network profiles and the Splitwise perf
// model (models/calibration), the microbenchmark CSV (tools/microbench/microbench_csv.h) and the GPU
// profile YAML (models/calibration/gpu_profile.h).
//
// Besides "no crash", each checks what the fits rely on: every sample a reader accepts has positive
// shapes and a finite time > 0. The microbenchmark CSV and the profile YAML have writers too, so what
// was read must write and read back: the microbench rows unchanged, the profile to the same text.
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "models/calibration/calibrate.h"
#include "models/calibration/gpu_profile.h"
#include "models/calibration/measurements.h"
#include "tools/fuzz/targets/fuzz_support.h"
#include "tools/microbench/microbench_csv.h"

namespace gpufleet::fuzz {

inline bool PositiveTime(double s) { return std::isfinite(s) && s > 0; }

inline void CheckError(const absl::Status& s) {
  Require(!s.ok() && !s.message().empty(), "an error without a message");
}

// A vidur mlp.csv; the reader names the model after the file's folder.
inline int FuzzVidurCompute(const uint8_t* data, size_t size) {
  const std::string path = WriteScratch("vidur/compute/h100/meta-llama/Llama-2-7b-hf/mlp.csv",
                                        std::string_view(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<VidurComputeSet> set = ReadVidurCompute(path);
  if (!set.ok()) {
    CheckError(set.status());
    return 0;
  }
  for (const GemmSample& g : set->gemms) {
    Require(g.m > 0 && g.n > 0 && g.k > 0 && g.tensor_parallel >= 1, "a GEMM sample with an empty shape");
    Require(PositiveTime(g.time_s), "a GEMM sample whose time is not a finite number > 0");
    Require(g.origin.model == "Llama-2-7b-hf" && g.origin.row >= 2, "a GEMM sample with a wrong origin");
  }
  for (const ElementwiseSample& e : set->elementwise) {
    Require(std::isfinite(e.bytes) && e.bytes > 0 && e.tokens > 0 && e.tensor_parallel >= 1,
            "a memory-bound sample with no bytes");
    Require(PositiveTime(e.time_s), "a memory-bound sample whose time is not a finite number > 0");
  }
  return 0;
}

// A vidur network profile; the reader names the node after the file's folder.
inline int FuzzVidurNetwork(const uint8_t* data, size_t size) {
  const std::string path = WriteScratch("vidur/network/h100_dgx/all_reduce.csv",
                                        std::string_view(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<std::vector<CollectiveSample>> rows = ReadVidurNetwork(path);
  if (!rows.ok()) {
    CheckError(rows.status());
    return 0;
  }
  for (const CollectiveSample& c : *rows) {
    Require(c.ranks >= 1 && c.devices_per_node >= 1 && c.ranks % c.devices_per_node == 0,
            "a collective sample whose ranks do not fill whole nodes");
    Require(c.bytes > 0 && std::isfinite(c.bytes), "a collective sample with no bytes");
    Require(PositiveTime(c.time_s), "a collective sample whose time is not a finite number > 0");
    Require(c.node == "h100_dgx", "a collective sample with a wrong node");
  }
  return 0;
}

// Splitwise's perf model CSV, then the screening every fit and report applies to its rows.
inline int FuzzSplitwise(const uint8_t* data, size_t size) {
  const std::string path = WriteScratch("splitwise/perf_model.csv",
                                        std::string_view(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<std::vector<EndToEndSample>> rows = ReadSplitwise(path);
  if (!rows.ok()) {
    CheckError(rows.status());
    return 0;
  }
  for (const EndToEndSample& e : *rows) {
    Require(e.tensor_parallel >= 1 && e.prompt_tokens >= 1 && e.batch >= 1 && e.output_tokens >= 1,
            "an end-to-end sample with an empty configuration");
    Require(PositiveTime(e.prefill_s) && PositiveTime(e.decode_iteration_s) && PositiveTime(e.e2e_s),
            "an end-to-end sample whose time is not a finite number > 0");
  }
  const ScreenedRows screened = ScreenEndToEnd(*rows);
  Require(screened.kept.size() + screened.excluded.size() == rows->size(), "screening lost or added rows");
  return 0;
}

// The microbenchmark CSV: parse, and for accepted text, format and parse again to the same rows.
inline int FuzzMicrobenchCsv(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int64_t> lines;
  absl::StatusOr<std::vector<microbench::MicrobenchRow>> rows = microbench::ParseMicrobenchCsv(text, "fuzz.csv", &lines);
  if (!rows.ok()) {
    CheckError(rows.status());
    return 0;
  }
  Require(lines.size() == rows->size(), "a line number per row");
  for (const microbench::MicrobenchRow& r : *rows) {
    Require(microbench::ValidateMicrobenchRow(r).ok(), "an accepted row that fails validation");
  }
  absl::StatusOr<std::string> written = microbench::FormatMicrobenchCsv(*rows, {"fuzz"});
  Require(written.ok(), "accepted rows that cannot be written");
  absl::StatusOr<std::vector<microbench::MicrobenchRow>> again = microbench::ParseMicrobenchCsv(*written, "again.csv");
  Require(again.ok(), "written rows that cannot be read back");
  Require(*again == *rows, "rows change through writing and reading back");
  return 0;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A GPU profile YAML: load, and for an accepted profile, write, load and write again to the same text
// (the writer rounds some figures, so the first write may differ from the input, never the second).
inline int FuzzGpuProfile(const uint8_t* data, size_t size) {
  const std::string path = WriteScratch("profile/in.yaml", std::string_view(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<GpuProfile> profile = LoadGpuProfile(path);
  if (!profile.ok()) {
    CheckError(profile.status());
    return 0;
  }
  const std::string first = (ScratchDir() / "profile/first.yaml").string();
  const std::string second = (ScratchDir() / "profile/second.yaml").string();
  Require(WriteGpuProfile(*profile, first).ok(), "an accepted profile that cannot be written");
  absl::StatusOr<GpuProfile> reread = LoadGpuProfile(first);
  if (!reread.ok()) Violation(std::string("a written profile that cannot be read back: ") + std::string(reread.status().message()));
  Require(WriteGpuProfile(*reread, second).ok(), "a reread profile that cannot be written");
  Require(ReadWholeFile(first) == ReadWholeFile(second), "a profile changes through writing and reading back");
  return 0;
}

}  // namespace gpufleet::fuzz
