// Reading <calibration root>/stacks.yaml and choosing a scenario's default stack.
#include "models/calibration/serving_stacks.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/calibration/gpu_profile.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

absl::StatusOr<std::vector<ServingStack>> LoadServingStacks(const std::string& root, const Catalog& catalog) {
  namespace fs = std::filesystem;
  const std::string path = root + "/stacks.yaml";
  GF_ASSIGN_OR_RETURN(YAML::Node doc, LoadYamlFile(path));
  GF_ASSIGN_OR_RETURN(MapReader top, MapReader::Make(path, doc, "stacks file"));
  const YAML::Node list = top.Raw("stacks");
  if (!list.IsDefined() || !list.IsSequence() || list.size() == 0) {
    return YamlError(path, list.IsDefined() ? list : doc, "stacks is missing or empty",
                     "a list of {name, released, description}");
  }
  std::vector<ServingStack> out;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(path, list[i], absl::StrCat("stacks[", i, "]")));
    ServingStack s;
    GF_RETURN_IF_ERROR(m.Get("name", &s.name));
    GF_RETURN_IF_ERROR(m.Get("released", &s.released));
    GF_RETURN_IF_ERROR(m.Get("description", &s.description));
    GF_RETURN_IF_ERROR(m.Get("framework", &s.framework));
    GF_RETURN_IF_ERROR(m.Finish());
    const bool month = s.released.size() == 7 && s.released[4] == '-' &&
                       std::all_of(s.released.begin(), s.released.end(), [](char c) { return c == '-' || std::isdigit(static_cast<unsigned char>(c)); });
    if (!month) return m.ErrorAt("released", absl::StrCat("released is '", s.released, "'"), "YYYY-MM");
    if (s.name.empty() || s.name.find_first_of("/\\ ") != std::string::npos || s.name[0] == '.') {
      return m.ErrorAt("name", absl::StrCat("name '", s.name, "' is not a folder name"), "letters, digits, '.', '-'");
    }
    if (!names.insert(s.name).second) return m.ErrorAt("name", absl::StrCat("stack '", s.name, "' is listed twice"));
    s.dir = root + "/" + s.name;
    if (!fs::is_directory(s.dir)) {
      return m.ErrorAt("name", absl::StrCat("stack '", s.name, "' has no folder ", s.dir), "a folder of <GPU>.yaml profiles");
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(s.dir))
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      GF_ASSIGN_OR_RETURN(GpuProfile p, LoadGpuProfile(f.string()));
      if (!p.serving_stack.empty() && p.serving_stack != s.name) {
        return absl::InvalidArgumentError(absl::StrCat(f.string(), ": serving_stack is '", p.serving_stack,
                                                       "' but the profile is in stack folder '", s.name,
                                                       "'; expected the two to agree"));
      }
      if (p.calibrated() && catalog.FindGpu(p.gpu) != nullptr) s.calibrated_gpus.push_back(p.gpu);
    }
    std::sort(s.calibrated_gpus.begin(), s.calibrated_gpus.end());
    out.push_back(std::move(s));
  }
  GF_RETURN_IF_ERROR(top.Finish());
  for (const auto& e : fs::directory_iterator(root)) {
    if (!e.is_directory() || names.contains(e.path().filename().string())) continue;
    for (const auto& f : fs::directory_iterator(e.path())) {
      if (f.path().extension() != ".yaml") continue;
      return absl::InvalidArgumentError(absl::StrCat(path, ": the folder ", e.path().string(),
                                                     " holds profiles but is not listed; expected an entry for it "
                                                     "under stacks"));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ServingStack& a, const ServingStack& b) {
    return a.released != b.released ? a.released > b.released : a.name < b.name;
  });
  return out;
}

StackChoice DefaultServingStack(const std::vector<ServingStack>& stacks, const std::vector<std::string>& gpus) {
  std::set<std::string> wanted(gpus.begin(), gpus.end());
  StackChoice best;
  size_t best_cover = 0;
  for (const ServingStack& s : stacks) {  // newest first: the first with the most coverage wins
    size_t cover = 0;
    for (const std::string& g : wanted) cover += std::binary_search(s.calibrated_gpus.begin(), s.calibrated_gpus.end(), g);
    if (best.stack == nullptr || cover > best_cover) {
      best.stack = &s;
      best_cover = cover;
    }
  }
  if (best.stack == nullptr) return best;
  const std::string list = absl::StrJoin(wanted, ", ");
  if (best_cover == wanted.size()) {
    best.reason = absl::StrCat("default: the most recent stack with measurements of ", list);
  } else {
    best.reason = absl::StrCat("default: no stack has measurements of every GPU (", list,
                               "); the most recent with the most (", best_cover, ")");
  }
  return best;
}

absl::StatusOr<const ServingStack*> FindServingStack(const std::vector<ServingStack>& stacks, const std::string& name) {
  std::vector<std::string> names;
  for (const ServingStack& s : stacks) {
    if (s.name == name) return &s;
    names.push_back(s.name);
  }
  return absl::NotFoundError(absl::StrCat("unknown serving stack '", name, "'; expected one of ", absl::StrJoin(names, ", ")));
}

}  // namespace gpufleet
