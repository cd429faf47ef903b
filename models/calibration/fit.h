// Fitting the operator model's parameters to measurements, and measuring how well they predict.
//
// Every fit minimizes a loss on the log error (relative errors weigh the same at 10 us and 10 ms; robust
// for kernels, see fit.cc) with Nelder-Mead over transformed parameters that keep each physical value in its range. Errors are
// reported as absolute percentage errors (APE) of predicted against measured time.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/calibration/gpu_profile.h"
#include "models/calibration/measurements.h"
#include "models/calibration/operator_model.h"
#include "models/catalog.h"

namespace gpufleet {

// The parameters each fit determines. A fit needs at least as many measured points: with fewer the
// parameters are not determined and the fit's errors say nothing (CheckEnoughPoints refuses it).
// The GEMM fit's are 12, or 9 when no sample is one of vidur's projections (their factors are not fitted).
int GemmParameters(const std::vector<GemmSample>& samples);
inline constexpr int kStreamParameters = 6;     // per stream kind
inline constexpr int kAllReduceParameters = 3;
// InvalidArgument "WHERE: N WHAT; expected at least P to fit the P parameters of MODEL" when points < P.
absl::Status CheckEnoughPoints(const std::string& where, size_t points, int parameters, const std::string& what,
                               const std::string& model);

GemmParams FitGemm(const std::vector<GemmSample>& samples, const GpuSpec& gpu, const GemmParams& start);
// The stream kind a vidur operator belongs to ("input_layernorm" -> "norm"); empty if none.
std::string StreamKindOf(const std::string& op);
// Fits each kind present in `samples` (kinds absent keep their `start` parameters).
std::map<std::string, StreamParams> FitStreams(const std::vector<ElementwiseSample>& samples, const GpuSpec& gpu,
                                               const std::map<std::string, StreamParams>& start);
StreamParams FitStream(const std::vector<ElementwiseSample>& samples, const GpuSpec& gpu, const StreamParams& start);
// `link_gbps`: the per-GPU intra-node bandwidth of the node the collectives ran on.
AllReduceParams FitAllReduce(const std::vector<CollectiveSample>& samples, const GpuSpec& gpu, double link_gbps,
                             const AllReduceParams& start);

double PredictGemm(const GemmParams& p, const GpuSpec& gpu, const GemmSample& s);
// With a whole profile's model (its measured shape corrections included).
double PredictGemm(const OperatorModel& model, const GemmSample& s);
double PredictStream(const StreamParams& p, const GpuSpec& gpu, const ElementwiseSample& s);
double PredictStream(const std::map<std::string, StreamParams>& p, const GpuSpec& gpu, const ElementwiseSample& s);
double PredictAllReduce(const AllReduceParams& p, const GpuSpec& gpu, double link_gbps, const CollectiveSample& s);

// Summary statistics of absolute percentage errors |predicted / measured - 1|.
FitError SummarizeErrors(std::vector<double> ape, const std::string& method);

// K-fold cross-validation with folds given by a key (e.g. the source model: leave-one-model-out).
// `fit_and_predict(train, test)` fits on `train` and returns the predicted times of `test`; returns the
// APE of every sample, each predicted by the fold that held it out. A fold whose training set has fewer
// than `min_train` samples (the fit's parameter count) is not fitted, and its samples have no APE.
template <class Sample>
std::vector<double> CrossValidatedApe(
    const std::vector<Sample>& samples, const std::function<std::string(const Sample&)>& fold_of,
    const std::function<std::vector<double>(const std::vector<Sample>&, const std::vector<Sample>&)>& fit_and_predict,
    const std::function<double(const Sample&)>& measured, size_t min_train = 1);

}  // namespace gpufleet

#include "models/calibration/fit_inl.h"
