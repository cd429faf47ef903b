// Reading the scenario's `fabric:` section (see fabric_section.h).
#include "sim/scenario/fabric_section.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"

namespace gpufleet {

absl::Status ReadFabricSection(MapReader& top, const Catalog& catalog, FabricSpec* out) {
  if (!top.Has("fabric")) {
    top.Raw("fabric");
    return absl::OkStatus();
  }
  GF_ASSIGN_OR_RETURN(MapReader f, MapReader::Make(top.file(), top.Raw("fabric"), "fabric"));
  GF_RETURN_IF_ERROR(f.ExpectOnly({"topology", "nodes_per_leaf", "oversubscription", "preset", "nic_latency_s",
                                   "switch_latency_s", "intra_latency_s"}));
  GF_RETURN_IF_ERROR(f.OptEnum("topology", {"star", "leaf-spine", "fat-tree", "rail-optimized"}, &out->topology));
  const std::string& topology = out->topology;
  if (topology == "star") {
    if (f.Has("nodes_per_leaf")) {
      return f.ErrorAt("nodes_per_leaf", "fabric.nodes_per_leaf is set, but a star has no leaves (one core switch joins every node)",
                       "topology: leaf-spine, fat-tree or rail-optimized, or no nodes_per_leaf");
    }
  } else {
    if (!f.Has("nodes_per_leaf")) {
      return f.Error(absl::StrCat("fabric.topology '", topology, "' needs nodes_per_leaf"),
                     topology == "rail-optimized" ? "nodes_per_leaf: N, the servers of one rail group"
                                                  : "nodes_per_leaf: N, the servers under one leaf switch");
    }
    GF_RETURN_IF_ERROR(f.Get("nodes_per_leaf", &out->nodes_per_leaf, 1, 100000));
  }
  if (f.Has("oversubscription") && topology != "leaf-spine") {
    return f.ErrorAt("oversubscription",
                     absl::StrCat("fabric.oversubscription is set, but topology '", topology, "' is ",
                                  topology == "star" ? "one non-blocking core" : "non-blocking (1:1) by design"),
                     "topology: leaf-spine, or no oversubscription");
  }
  GF_RETURN_IF_ERROR(f.Opt("oversubscription", &out->oversubscription, 1, 64));
  if (f.Has("preset")) {
    GF_RETURN_IF_ERROR(f.Get("preset", &out->preset));
    const FabricPreset* preset = catalog.FindFabric(out->preset);
    if (preset == nullptr) {
      std::string hint;
      if (std::string c = ClosestMatch(out->preset, catalog.FabricNames()); !c.empty()) {
        hint = absl::StrCat(" (did you mean '", c, "'?)");
      }
      return f.ErrorAt("preset", absl::StrCat("fabric.preset '", out->preset, "' is not in the fabric catalog", hint),
                       catalog.FabricNames().empty()
                           ? std::string("a catalog with fabrics.yaml (models/catalog), or no preset")
                           : absl::StrCat("one of: ", absl::StrJoin(catalog.FabricNames(), ", ")));
    }
    out->nic_latency_s = preset->nic_latency_s;
    out->switch_latency_s = preset->switch_latency_s;
    out->intra_latency_s = preset->intra_latency_s;
  }
  // Overrides of the preset's figures (a measured fabric, a what-if); a millisecond is already absurd.
  GF_RETURN_IF_ERROR(f.Opt("nic_latency_s", &out->nic_latency_s, 0, 1e-3));
  GF_RETURN_IF_ERROR(f.Opt("switch_latency_s", &out->switch_latency_s, 0, 1e-3));
  GF_RETURN_IF_ERROR(f.Opt("intra_latency_s", &out->intra_latency_s, 0, 1e-3));
  return f.Finish();
}

}  // namespace gpufleet
