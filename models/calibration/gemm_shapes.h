// Measured-shape corrections for GEMMs (GemmShapeCorrection in gpu_profile.h): building them from kernel
// measurements and looking one up.
#pragma once

#include <optional>
#include <vector>

#include "models/calibration/gpu_profile.h"
#include "models/calibration/measurements.h"
#include "models/catalog.h"

namespace gpufleet {

// The largest log error the knots leave between two of them (1%).
inline constexpr double kGemmShapeTolerance = 0.01;
// Fewer measured sizes than this say nothing about the kernel choices in between (a square sweep's
// single size, measured compute-bound, would otherwise set a decode GEMM of the same shape).
inline constexpr size_t kMinGemmShapeSizes = 3;

// The correction of a GEMM with weight shape (n, k) at m rows, or nullopt when `shapes` (sorted by
// (n, k)) has none for it. n and k must be whole numbers to match.
std::optional<double> GemmShapeFactor(const std::vector<GemmShapeCorrection>& shapes, double m, double n, double k);

// One correction per distinct (n, k) of `samples` measured at kMinGemmShapeSizes sizes m or more: at each
// m the median of measured / `gemm`'s equation (as for a GEMM of no projection). Knots: each segment runs
// from a knot as far as the straight line (in log m) to its end stays within `tolerance` of every ratio
// it passes; factors are then rounded to 4 significant digits. Sorted by (n, k); deterministic.
std::vector<GemmShapeCorrection> BuildGemmShapeCorrections(const std::vector<GemmSample>& samples,
                                                           const GpuSpec& gpu, const GemmParams& gemm,
                                                           double tolerance = kGemmShapeTolerance);

// The GEMM fit of `train` from `start` as a profile for OperatorModel, with `train`'s measured shapes
// when `shapes` (how cross-validation refits a profile that keeps them).
GpuProfile FitGemmProfile(const std::vector<GemmSample>& train, const GpuSpec& gpu, const GemmParams& start,
                          bool shapes);

}  // namespace gpufleet
