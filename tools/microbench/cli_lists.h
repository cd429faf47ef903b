// Parsing the comma-separated list flags of gpufleet-microbench (--ops, --dtypes, --tp, --tokens,
// --models, --power-limits). Errors name the flag and say what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/microbench/microbench_types.h"

namespace gpufleet::microbench {

// "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);

// Positive integers; a K/M/G suffix multiplies by 1024^1..3 ("1K,64M").
absl::StatusOr<std::vector<int64_t>> ParseSizeList(const std::string& flag, const std::string& text);
absl::StatusOr<std::vector<int>> ParseIntList(const std::string& flag, const std::string& text);
// Positive numbers (watts).
absl::StatusOr<std::vector<double>> ParsePositiveList(const std::string& flag, const std::string& text);
absl::StatusOr<std::vector<OpGroup>> ParseOpGroups(const std::string& flag, const std::string& text);
absl::StatusOr<std::vector<Dtype>> ParseDtypes(const std::string& flag, const std::string& text);

// Linux's CPU list format ("0-31,64-95\n", as /sys/bus/pci/devices/*/local_cpulist holds it) -> CPU ids.
absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text);

}  // namespace gpufleet::microbench
