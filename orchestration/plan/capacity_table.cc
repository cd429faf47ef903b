// See capacity_table.h.
#include "orchestration/plan/capacity_table.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

bool NonNegative(double v) { return std::isfinite(v) && v >= 0; }

absl::Status Bad(const std::string& what, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("capacity table: ", what, "; expected ", expected));
}

std::string BucketName(const CapacityTable& table, size_t b) {
  return b < table.bucket_names.size() ? table.bucket_names[b] : absl::StrCat("#", b);
}

absl::Status ValidateOption(const CapacityTable& table, const GpuOption& o) {
  const std::string where = absl::StrCat("option ", o.name);
  if (!NonNegative(o.price_per_gpu_hour)) {
    return Bad(absl::StrCat(where, " costs ", o.price_per_gpu_hour, " $/h"), "a number >= 0");
  }
  if (o.gpus_per_replica < 1) {
    return Bad(absl::StrCat(where, " has ", o.gpus_per_replica, " GPUs per replica"), "an integer >= 1");
  }
  if (!o.node.has_value() && o.price_per_gpu_hour * static_cast<double>(o.gpus_per_replica) > kMaxPricePerHour) {
    return Bad(absl::StrCat(where, " costs ", o.price_per_gpu_hour * static_cast<double>(o.gpus_per_replica),
                            " $/h per unit"),
               absl::StrCat("at most ", kMaxPricePerHour, " $/h"));
  }
  if (o.node.has_value()) {
    if (o.node->gpus_per_node < 1) {
      return Bad(absl::StrCat(where, " has ", o.node->gpus_per_node, " GPUs per node"), "an integer >= 1");
    }
    if (!NonNegative(o.node->price_per_hour) || o.node->price_per_hour > kMaxPricePerHour) {
      return Bad(absl::StrCat(where, "'s node costs ", o.node->price_per_hour, " $/h"),
                 absl::StrCat("a number in [0, ", kMaxPricePerHour, "]"));
    }
  }
  if (o.max_gpus.has_value() && *o.max_gpus < 0) {
    return Bad(absl::StrCat(where, " has an availability of ", *o.max_gpus, " GPUs"), "an integer >= 0");
  }
  if (!NonNegative(o.watts_per_unit)) {
    return Bad(absl::StrCat(where, " draws ", o.watts_per_unit, " W per unit"), "a number >= 0");
  }
  if (o.tputs.size() != table.rates.size()) {
    return Bad(absl::StrCat(where, " has ", o.tputs.size(), " tputs for ", table.rates.size(), " buckets"),
               "one tput per bucket");
  }
  for (size_t b = 0; b < o.tputs.size(); ++b) {
    if (!NonNegative(o.tputs[b])) {
      return Bad(absl::StrCat(where, "'s tput for bucket ", BucketName(table, b), " is ", o.tputs[b]),
                 "a number >= 0 (0: cannot serve it)");
    }
    if (o.tputs[b] > 0 && table.rates[b] / o.tputs[b] > kMaxUnitsPerBucket) {
      return Bad(absl::StrCat(where, " would need ", table.rates[b] / o.tputs[b], " units for bucket ",
                              BucketName(table, b), " (", table.rates[b], " req/s at ", o.tputs[b], " req/s per unit)"),
                 absl::StrCat("at most ", kMaxUnitsPerBucket, " (are the rates and tputs in the same unit?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCapacityTable(const CapacityTable& table) {
  if (table.options.empty()) return Bad("no GPU options", "at least one");
  if (table.rates.empty()) return Bad("no buckets", "at least one");
  if (!table.bucket_names.empty() && table.bucket_names.size() != table.rates.size()) {
    return Bad(absl::StrCat(table.bucket_names.size(), " bucket names for ", table.rates.size(), " buckets"),
               "one name per bucket, or none");
  }
  if (table.slice_factor < 1 || table.slice_factor > kMaxSliceFactor) {
    return Bad(absl::StrCat("slice factor ", table.slice_factor),
               absl::StrCat("an integer in [1, ", kMaxSliceFactor, "]"));
  }
  if (table.power_budget_w.has_value() && !NonNegative(*table.power_budget_w)) {
    return Bad(absl::StrCat("power budget ", *table.power_budget_w, " W"), "a number >= 0");
  }
  for (size_t b = 0; b < table.rates.size(); ++b) {
    if (!NonNegative(table.rates[b])) {
      return Bad(absl::StrCat("bucket ", BucketName(table, b), " has a rate of ", table.rates[b]), "a number >= 0");
    }
  }
  std::set<std::string> names;
  for (const GpuOption& o : table.options) {
    if (o.name.empty()) return Bad("an option without a name", "a name per option");
    if (!names.insert(o.name).second) return Bad(absl::StrCat("option ", o.name, " twice"), "distinct names");
    if (absl::Status st = ValidateOption(table, o); !st.ok()) return st;
  }
  return absl::OkStatus();
}

NodePacking PackingOf(const GpuOption& option) {
  const int64_t per_node = option.node->gpus_per_node;
  if (option.gpus_per_replica <= per_node) return {per_node / option.gpus_per_replica, 1};
  return {1, (option.gpus_per_replica + per_node - 1) / per_node};
}

int64_t NodesForUnits(const GpuOption& option, int64_t units) {
  const NodePacking p = PackingOf(option);
  return (units * p.nodes + p.replicas - 1) / p.replicas;
}

std::optional<int64_t> MaxUnits(const GpuOption& option) {
  if (!option.max_gpus.has_value()) return std::nullopt;
  if (!option.node.has_value()) return *option.max_gpus / option.gpus_per_replica;
  const NodePacking p = PackingOf(option);
  const int64_t nodes = *option.max_gpus / option.node->gpus_per_node;
  return nodes / p.nodes * p.replicas;
}

}  // namespace gpufleet
