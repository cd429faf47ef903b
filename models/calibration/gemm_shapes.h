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

// The correction of a GEMM with weight shape (n, k) at m rows, or nullopt when `shapes` (sorted by
// (n, k)) has none for it. n and k must be whole numbers to match.
std::optional<double> GemmShapeFactor(const std::vector<GemmShapeCorrection>& shapes, double m, double n, double k);

// One correction per distinct (n, k) of `samples`: at every measured m the median of measured / `gemm`'s
// equation (as for a GEMM of no projection), thinned to the knots that keep linear interpolation in log m
// within `tolerance` of every ratio. Sorted by (n, k); deterministic.
std::vector<GemmShapeCorrection> BuildGemmShapeCorrections(const std::vector<GemmSample>& samples,
                                                           const GpuSpec& gpu, const GemmParams& gemm,
                                                           double tolerance = kGemmShapeTolerance);

}  // namespace gpufleet
