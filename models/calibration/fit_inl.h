// Template definitions for fit.h.
#pragma once

#include <cmath>
#include <set>

namespace gpufleet {

template <class Sample>
std::vector<double> CrossValidatedApe(
    const std::vector<Sample>& samples, const std::function<std::string(const Sample&)>& fold_of,
    const std::function<std::vector<double>(const std::vector<Sample>&, const std::vector<Sample>&)>& fit_and_predict,
    const std::function<double(const Sample&)>& measured, size_t min_train) {
  std::set<std::string> folds;
  for (const Sample& s : samples) folds.insert(fold_of(s));
  std::vector<double> ape;
  for (const std::string& fold : folds) {
    std::vector<Sample> train, test;
    for (const Sample& s : samples) (fold_of(s) == fold ? test : train).push_back(s);
    // A single fold cannot be held out; a training set smaller than the fit's parameters fits nothing.
    if (train.empty() || train.size() < min_train) continue;
    const std::vector<double> predicted = fit_and_predict(train, test);
    for (size_t i = 0; i < test.size(); ++i) ape.push_back(std::fabs(predicted[i] / measured(test[i]) - 1.0));
  }
  return ape;
}

}  // namespace gpufleet
