// See melange_input.h. Every value is checked where it is read, so that an error names the one field at
// fault rather than the first consequence of it.
#include "orchestration/plan/melange_input.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

using Json = nlohmann::ordered_json;  // keeps gpu_info in the file's order, as Mélange's Python dict does

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(const std::string& path, const std::string& expected, const Json* got) const {
    std::string text = absl::StrCat(file_, ": ", path, ": expected ", expected);
    if (got != nullptr) {
      std::string shown = got->dump();
      if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
      absl::StrAppend(&text, ", got ", shown);
    }
    return absl::InvalidArgumentError(text);
  }

  absl::Status OnlyKeys(const Json& obj, const std::string& path, const std::set<std::string>& allowed) const {
    for (const auto& [key, value] : obj.items()) {
      if (allowed.count(key) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(file_, ": ", path.empty() ? "" : path + ".", key,
                                                       ": unknown key; expected one of ",
                                                       absl::StrJoin(allowed, ", ")));
      }
    }
    return absl::OkStatus();
  }

  const Json* Field(const Json& obj, const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  absl::StatusOr<const Json*> Required(const Json& obj, const std::string& path, const std::string& key,
                                       const std::string& expected) const {
    const Json* v = Field(obj, key);
    if (v == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(file_, ": ", path, ": missing; expected ", expected));
    }
    return v;
  }

  absl::StatusOr<double> NonNegative(const Json& v, const std::string& path) const {
    if (!v.is_number() || !(v.get<double>() >= 0) || !std::isfinite(v.get<double>())) {
      return Error(path, "a number >= 0", &v);
    }
    return v.get<double>();
  }

  absl::StatusOr<int64_t> Integer(const Json& v, const std::string& path, int64_t lo, int64_t hi) const {
    const std::string expected =
        hi == INT64_MAX ? absl::StrCat("an integer >= ", lo) : absl::StrCat("an integer in [", lo, ", ", hi, "]");
    if (!v.is_number()) return Error(path, expected, &v);
    const double d = v.get<double>();
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi) && d <= 9e15) || std::floor(d) != d) {
      return Error(path, expected, &v);
    }
    return static_cast<int64_t>(d);
  }

  // A rectangular 2-D array of numbers >= 0, flattened row-major. `*rows` and `*cols` are the shape it
  // must have when `shape_given`; otherwise they receive its shape.
  absl::StatusOr<std::vector<double>> Matrix(const Json& v, const std::string& path, bool shape_given, size_t* rows,
                                             size_t* cols) const {
    if (!v.is_array() || v.empty() || (shape_given && v.size() != *rows)) {
      return Error(path,
                   shape_given ? absl::StrCat("an array of ", *rows, " rows (as workload_distribution)")
                               : "a non-empty 2-D array of numbers",
                   &v);
    }
    if (!shape_given) *cols = v[0].is_array() ? v[0].size() : 0;
    std::vector<double> out;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string row_path = absl::StrCat(path, "[", i, "]");
      if (!v[i].is_array() || v[i].empty() || v[i].size() != *cols) {
        return Error(row_path,
                     *cols == 0 ? "a non-empty array of numbers" : absl::StrCat("an array of ", *cols, " numbers"),
                     &v[i]);
      }
      for (size_t j = 0; j < v[i].size(); ++j) {
        GF_ASSIGN_OR_RETURN(double x, NonNegative(v[i][j], absl::StrCat(row_path, "[", j, "]")));
        out.push_back(x);
      }
    }
    if (!shape_given) *rows = v.size();
    return out;
  }

 private:
  std::string file_;
};

absl::Status ReadGpus(const Reader& r, const Json& gpus, size_t rows, size_t cols, CapacityTable* table) {
  if (!gpus.is_object() || gpus.empty()) return r.Error("gpu_info", "an object of GPU name -> {cost, tputs}", &gpus);
  for (const auto& [name, entry] : gpus.items()) {
    const std::string path = absl::StrCat("gpu_info.", name);
    if (!entry.is_object()) return r.Error(path, "an object {cost, tputs}", &entry);
    GF_RETURN_IF_ERROR(r.OnlyKeys(entry, path, {"cost", "tputs", "max_count"}));
    GpuOption option;
    option.name = name;
    GF_ASSIGN_OR_RETURN(const Json* cost, r.Required(entry, path + ".cost", "cost", "a number >= 0 ($/h)"));
    GF_ASSIGN_OR_RETURN(option.price_per_gpu_hour, r.NonNegative(*cost, path + ".cost"));
    GF_ASSIGN_OR_RETURN(const Json* tputs, r.Required(entry, path + ".tputs", "tputs", "a 2-D array of req/s"));
    GF_ASSIGN_OR_RETURN(option.tputs, r.Matrix(*tputs, path + ".tputs", /*shape_given=*/true, &rows, &cols));
    if (const Json* max = r.Field(entry, "max_count")) {
      GF_ASSIGN_OR_RETURN(option.max_gpus, r.Integer(*max, path + ".max_count", 0, INT64_MAX));
    }
    table->options.push_back(std::move(option));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CapacityTable> ParseMelangeJson(const std::string& text, const std::string& name) {
  const Reader r(name);
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double ("1e400"), which the parser raises too.
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    if (const size_t bracket = what.find("] "); what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON: ", what));
  }
  if (!doc.is_object()) return r.Error("(top level)", "an object {gpu_info, workload_distribution, ...}", &doc);
  GF_RETURN_IF_ERROR(r.OnlyKeys(doc, "", {"gpu_info", "workload_distribution", "total_request_rate", "slice_factor"}));
  CapacityTable table;
  size_t rows = 0, cols = 0;
  GF_ASSIGN_OR_RETURN(const Json* dist, r.Required(doc, "workload_distribution", "workload_distribution",
                                                   "a 2-D array of shares per [prompt][output] bucket"));
  GF_ASSIGN_OR_RETURN(std::vector<double> shares,
                      r.Matrix(*dist, "workload_distribution", /*shape_given=*/false, &rows, &cols));
  double sum = 0;
  for (double s : shares) sum += s;
  if (std::fabs(sum - 1) > kMelangeShareTolerance) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: workload_distribution: the shares sum to %g; expected 1 (within %g): a share of the requests per "
        "bucket, not a rate",
        name, sum, kMelangeShareTolerance));
  }
  GF_ASSIGN_OR_RETURN(const Json* rate,
                      r.Required(doc, "total_request_rate", "total_request_rate", "a number >= 0 (req/s)"));
  GF_ASSIGN_OR_RETURN(double total_rate, r.NonNegative(*rate, "total_request_rate"));
  GF_ASSIGN_OR_RETURN(const Json* slices, r.Required(doc, "slice_factor", "slice_factor", "an integer >= 1"));
  GF_ASSIGN_OR_RETURN(table.slice_factor, r.Integer(*slices, "slice_factor", 1, kMaxSliceFactor));
  GF_ASSIGN_OR_RETURN(const Json* gpus,
                      r.Required(doc, "gpu_info", "gpu_info", "an object of GPU name -> {cost, tputs}"));
  GF_RETURN_IF_ERROR(ReadGpus(r, *gpus, rows, cols, &table));
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) {
      table.bucket_names.push_back(absl::StrCat("[", i, "][", j, "]"));
      table.rates.push_back(shares[i * cols + j] * total_rate);
    }
  }
  if (absl::Status st = ValidateCapacityTable(table); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", st.message()));
  }
  return table;
}

absl::StatusOr<CapacityTable> LoadMelangeJson(const std::string& path) {
  std::ifstream in(path);
  if (!in || std::filesystem::is_directory(path)) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  return ParseMelangeJson(text.str(), path);
}

}  // namespace gpufleet
