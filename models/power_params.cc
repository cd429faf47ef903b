// Loading and writing fitted GPU power parameters (see power_params.h).
#include "models/power_params.h"

#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "sim/util/atomic_file.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

std::string PowerParamsDir() {
  if (const char* env = std::getenv("GPUFLEET_DATA_DIR"); env != nullptr && env[0] != '\0') {
    return (std::filesystem::path(env) / "models" / "power").string();
  }
  return GPUFLEET_SOURCE_DIR "/models/power";
}

absl::Status ReadPowerParamKeys(MapReader& m, bool required, GpuPowerParams* p) {
  struct Key {
    const char* name;
    double* value;
    double max;
  };
  const Key keys[] = {{"idle_w", &p->idle_w, 5000},           {"active_w", &p->active_w, 5000},
                      {"pj_per_flop", &p->pj_per_flop, 1000}, {"pj_per_hbm_byte", &p->pj_per_hbm_byte, 10000},
                      {"pj_per_link_byte", &p->pj_per_link_byte, 10000}};
  for (const Key& k : keys) {
    GF_RETURN_IF_ERROR(required ? m.Get(k.name, k.value, 0, k.max) : m.Opt(k.name, k.value, 0, k.max));
  }
  GF_RETURN_IF_ERROR(m.Opt("flop_energy_clock_exponent", &p->flop_energy_clock_exponent, 0, 3));
  return m.Opt("memory_clock_knee", &p->memory_clock_knee, 0.01, 1);
}

absl::StatusOr<PowerParamsFile> LoadPowerParamsFile(const std::string& path, const GpuSpec& gpu) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  GF_ASSIGN_OR_RETURN(MapReader m, MapReader::Make(path, root, "power parameters"));
  PowerParamsFile f;
  GpuPowerParams& p = f.params;
  p = DerivedPowerParams(gpu);  // the limits and clock constants come from the catalog and the defaults
  std::string name;
  GF_RETURN_IF_ERROR(m.Get("gpu", &name));
  if (name != gpu.name) return m.ErrorAt("gpu", absl::StrCat("gpu is '", name, "'"), absl::StrCat("'", gpu.name, "'"));
  GF_RETURN_IF_ERROR(m.OptEnum("status", {"fitted", "derived"}, &p.status));
  GF_RETURN_IF_ERROR(m.Get("source", &p.source));
  GF_RETURN_IF_ERROR(m.Opt("command", &f.command));
  GF_RETURN_IF_ERROR(ReadPowerParamKeys(m, /*required=*/true, &p));
  if (m.Has("fit")) {
    YAML::Node fit = m.Raw("fit");
    if (!fit.IsMap()) return m.ErrorAt("fit", "fit is not a mapping", "set name: {method, n, median_ape, mean_ape, p90_ape}");
    for (const auto& kv : fit) {
      const std::string set = kv.first.as<std::string>();
      GF_ASSIGN_OR_RETURN(MapReader e, MapReader::Make(path, kv.second, "fit." + set));
      PowerFitError err;
      GF_RETURN_IF_ERROR(e.Get("method", &err.method));
      GF_RETURN_IF_ERROR(e.Get("n", &err.n, 0));
      GF_RETURN_IF_ERROR(e.Get("median_ape", &err.median_ape, 0));
      GF_RETURN_IF_ERROR(e.Get("mean_ape", &err.mean_ape, 0));
      GF_RETURN_IF_ERROR(e.Get("p90_ape", &err.p90_ape, 0));
      GF_RETURN_IF_ERROR(e.Finish());
      f.fit[set] = err;
    }
  }
  GF_RETURN_IF_ERROR(m.Finish());
  return f;
}

absl::Status WritePowerParamsFile(const PowerParamsFile& f, const std::string& path) {
  const GpuPowerParams& p = f.params;
  YAML::Emitter out;
  out.SetDoublePrecision(6);
  out << YAML::BeginMap;
  out << YAML::Key << "gpu" << YAML::Value << p.gpu;
  out << YAML::Key << "status" << YAML::Value << p.status;
  out << YAML::Key << "source" << YAML::Value << p.source;
  if (!f.command.empty()) out << YAML::Key << "command" << YAML::Value << f.command;
  out << YAML::Key << "idle_w" << YAML::Value << p.idle_w;
  out << YAML::Key << "active_w" << YAML::Value << p.active_w;
  out << YAML::Key << "pj_per_flop" << YAML::Value << p.pj_per_flop;
  out << YAML::Key << "pj_per_hbm_byte" << YAML::Value << p.pj_per_hbm_byte;
  out << YAML::Key << "pj_per_link_byte" << YAML::Value << p.pj_per_link_byte;
  out << YAML::Key << "flop_energy_clock_exponent" << YAML::Value << p.flop_energy_clock_exponent;
  out << YAML::Key << "memory_clock_knee" << YAML::Value << p.memory_clock_knee;
  if (!f.fit.empty()) {
    out << YAML::Key << "fit" << YAML::Value << YAML::BeginMap;
    for (const auto& [set, e] : f.fit) {
      out << YAML::Key << set << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "method" << YAML::Value
          << e.method << YAML::Key << "n" << YAML::Value << e.n << YAML::Key << "median_ape" << YAML::Value
          << e.median_ape << YAML::Key << "mean_ape" << YAML::Value << e.mean_ape << YAML::Key << "p90_ape"
          << YAML::Value << e.p90_ape << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return WriteFileAtomically(path, std::string(out.c_str()) + "\n");
}

absl::StatusOr<GpuPowerParams> PowerParamsForGpu(const GpuSpec& gpu, const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / (gpu.name + ".yaml")).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return DerivedPowerParams(gpu);
  GF_ASSIGN_OR_RETURN(PowerParamsFile f, LoadPowerParamsFile(path, gpu));
  return f.params;
}

}  // namespace gpufleet
