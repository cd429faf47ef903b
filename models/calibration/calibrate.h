// Builds calibration profiles from measurement sets (`gpufleet calibrate`) and evaluates them
// (`gpufleet validate`).
//
// vidur: GEMM and memory-bound kernel parameters from per-operator kernel times, evaluated by
//        leave-one-model-out cross-validation (so the error is that of a model the fit has not seen);
//        optionally the all-reduce from NCCL measurements of a node.
// splitwise: the serving stack's parameters (host time per iteration, sequence and TP rank, eager
//        prefill launch, sustained-load slowdown) and the attention prefill efficiency, on top of a
//        kernel-level profile, from end-to-end prefill and decode times (after ScreenEndToEnd);
//        evaluated by 5-fold cross-validation over configurations.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/calibration/gpu_profile.h"
#include "models/calibration/measurements.h"
#include "models/catalog.h"

namespace gpufleet {

class CalibratedPerfModel;

struct VidurCalibrationInput {
  std::string compute_dir;        // e.g. vidur-profiles/compute/h100
  std::string network_file;       // optional: vidur-profiles/network/h100_dgx/all_reduce.csv
  const NodeSpec* network_node = nullptr;  // the node type the network file was measured on
  // Keep the measured GEMM shapes (GemmShapeCorrection) in the profile. They describe the library build
  // that was measured; vidur's do not carry over to Splitwise's serving runs (docs/perf-model.md).
  bool shape_corrections = false;
};

// Resets serving-stack parameters that `profile` borrowed from another GPU (ProfileForGpu) to the
// built-in values, so a fitted profile never stores another GPU's numbers as its own.
void DropBorrowedFramework(GpuProfile& p);

absl::StatusOr<GpuProfile> CalibrateFromVidur(const VidurCalibrationInput& input, const GpuSpec& gpu,
                                              const GpuProfile& start);

// From the project's microbenchmark CSV (docs/microbench-csv.md); `link_gbps` is the per-GPU intra-node
// bandwidth of the machine it ran on (for the all-reduce fit).
absl::StatusOr<GpuProfile> CalibrateFromMicrobench(const std::string& path, const GpuSpec& gpu,
                                                   const GpuProfile& start, double link_gbps,
                                                   bool shape_corrections = true,
                                                   bool attention_from_reference = false);

// How well measured-shape corrections predict a measured shape at sizes between its measurements: per
// (n, k), every other measured m (never the largest) is held out, the GEMM parameters and corrections are
// fitted on the rest, and the held-out ones are predicted. Returns their APE.
std::vector<double> ShapeInterpolationApe(const std::vector<GemmSample>& gemms, const GpuSpec& gpu,
                                          const GemmParams& start);
inline constexpr char kShapeInterpolationMethod[] = "every other token count held out";

// Maps Splitwise's hardware names to catalog GPUs and nodes: the name goes through MapGpuName
// (model_names.h: "a100-80gb" -> A100-SXM-80GB) after Splitwise's "-pcap" suffix (its model of a
// power-capped GPU, not a measurement: headline false) is taken off; the node is ReferenceNode's (DGX-A100,
// DGX-H100: the servers Splitwise measured on).
struct SplitwiseHardware {
  const GpuSpec* gpu = nullptr;
  const NodeSpec* node = nullptr;
  bool headline = true;           // false for h100-80gb-pcap: Splitwise's own model of a capped H100
};
absl::StatusOr<SplitwiseHardware> ResolveSplitwiseHardware(const std::string& name, const Catalog& catalog);

// End-to-end rows that contradict the others: a configuration with at least as many prompts of at least
// the same length as another (and more tokens in all) whose prefill took less than half as long. No
// physical effect halves the time of strictly more work, so such a row measured something else (Splitwise's
// TP2 batch-64 rows are 7-8x faster than batch 32, and their decode steps faster too). They are left out
// of fits and error figures, and every report lists them.
struct ExcludedRow {
  EndToEndSample row;
  std::string reason;
};
struct ScreenedRows {
  std::vector<EndToEndSample> kept;
  std::vector<ExcludedRow> excluded;
};
// Compares rows of the same hardware and TP only.
ScreenedRows ScreenEndToEnd(const std::vector<EndToEndSample>& rows);

// Fits the serving-stack parameters and attention prefill efficiency for the rows of `hardware` on top
// of `base` (after ScreenEndToEnd).
absl::StatusOr<GpuProfile> CalibrateFromSplitwise(const std::string& path, const std::string& hardware,
                                                  const GpuProfile& base, const Catalog& catalog);

// Validation reports: per group (an operator, or a GPU/TP/phase), the error statistics.
struct ValidationGroup {
  std::string name;
  FitError profile;               // the profile's own predictions
  FitError cross_validated;       // refitted without the held-out fold
  bool headline = true;
};
// One measured point with its predictions.
struct ValidationPoint {
  std::string file;
  int64_t row = 0;                // 1-based line in the file
  std::string group;              // the report group: an operator, or "<hardware> tp<N> <phase>"
  std::string config;             // the point's shape, e.g. "model=phi-2 tp=1 tokens=512 bytes=..."
  double measured_s = 0;
  double predicted_s = 0;         // by the profile
  double cross_validated_s = std::numeric_limits<double>::quiet_NaN();  // by the fit that held this
                                                                        // point's fold out; NaN if none
};
struct ValidationReport {
  std::string source;
  bool in_sample = false;         // the profile was fitted on these measurements
  std::vector<ValidationGroup> groups;
  std::vector<ValidationPoint> points;  // every point, in file order per source
  FitError overall_profile;
  FitError overall_cross_validated;
  std::vector<ExcludedRow> excluded;  // measurement rows left out of every figure, with why
  std::vector<std::string> notes;
};

// The content digest of a measurement set, "fnv1a64:<16 hex digits>": 64-bit FNV-1a over a file's bytes, or
// over every regular file below a folder in sorted relative-path order, each hashed as its relative path, a
// NUL, its byte count, a NUL and its bytes. Names outside the set (its folder's name and place) do not count,
// so a copy is the same set and an edited one is not.
absl::StatusOr<std::string> MeasurementSetDigest(const std::string& path);
// `path`'s digest with `path` as its name, for GpuProfile::fitted_on.
absl::StatusOr<GpuProfile::FittedSet> FittedSetOf(const std::string& path);

// Building reports: whether `profile` was fitted on the measurement set at `path` (so its errors there are
// in-sample): its digest is one of the profile's fitted_on. A source a profile lists without a digest (profiles
// written before digests) is compared by path instead, by its last two components; a new set in a folder
// named like the training one is then taken for it. Also: a point with no cross-validated prediction yet;
// each group's errors (points grouped by name) and the overall errors over the groups `headline` accepts.
bool FittedOn(const GpuProfile& profile, const std::string& path);
ValidationPoint PointOf(const SampleOrigin& origin, std::string group, std::string config, double measured_s,
                        double predicted_s);
void Summarize(ValidationReport& report, const std::string& cv_method,
               const std::function<bool(const std::string&)>& headline);

absl::StatusOr<ValidationReport> ValidateVidur(const std::string& compute_dir, const GpuProfile& profile,
                                               const GpuSpec& gpu);
// Profiles by GPU name; each Splitwise hardware is predicted with its GPU's profile.
absl::StatusOr<ValidationReport> ValidateSplitwise(const std::string& path,
                                                   const std::map<std::string, GpuProfile>& profiles,
                                                   const Catalog& catalog);
// The project's microbenchmark CSV, rows at its highest power limit: GEMMs (fp16/bf16), attention, HBM
// streams (as the residual-add kind, the plainest stream) and all-reduces (over `link_gbps` per GPU), each
// predicted by `profile`; cross-validated figures for the GEMMs only, refitted 10-fold by weight shape.
// Attention rows are the library kernel's (cudnn_sdpa), or the reference kernels' when asked.
absl::StatusOr<ValidationReport> ValidateMicrobench(const std::string& path, const GpuProfile& profile,
                                                    const GpuSpec& gpu, double link_gbps,
                                                    bool attention_from_reference = false);

// Predicted prefill and decode-iteration times of a Splitwise row (its model at its TP).
struct EndToEndPrediction {
  double prefill_s = 0;
  double decode_iteration_s = 0;
};
EndToEndPrediction PredictEndToEnd(const EndToEndSample& s, const GpuProfile& profile, const SplitwiseHardware& hw,
                                   const LlmSpec& llm);
// The same with a model built for the row's hardware and TP (for loops over many rows).
EndToEndPrediction PredictEndToEnd(const EndToEndSample& s, const CalibratedPerfModel& model);

}  // namespace gpufleet
