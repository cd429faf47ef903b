// `gpufleet catalog {gpus,nodes,models,fabrics,profiles}`: list the catalog's entries with their key figures.
#include <cstdio>

#include <fmt/format.h>

#include "models/calibration/gpu_profile.h"
#include "models/calibration/serving_stacks.h"
#include "models/catalog.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddCatalogCommand(CLI::App& app) {
  auto what = std::make_shared<std::string>("gpus");
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("catalog", "List the GPU, node, model or fabric catalog");
  cmd->add_option("kind", *what, "gpus, nodes, models, fabrics or profiles (each GPU's calibration status)")
      ->check(CLI::IsMember({"gpus", "nodes", "models", "fabrics", "profiles"}));
  cmd->add_option("--catalog", *dir, "Catalog directory (default: the built-in models/catalog)");
  return [what, dir]() -> int {
    auto catalog = Catalog::LoadFromDir(dir->empty() ? Catalog::DefaultDir() : *dir);
    if (!catalog.ok()) return ReportError(catalog.status());
    std::string out;
    if (*what == "gpus") {
      out += fmt::format("{:<16} {:>9} {:>9} {:>7} {:>8} {:>6} {:>8} {:>8}\n", "gpu", "fp16 TF", "fp8 TF", "HBM GB",
                         "HBM GB/s", "TDP W", "NVLink", "$/hour");
      for (const auto& [name, g] : catalog->gpus()) {
        out += fmt::format("{:<16} {:>9.1f} {:>9.1f} {:>7.0f} {:>8.0f} {:>6.0f} {:>8.0f} {:>8.2f}\n", name, g.fp16_tflops,
                           g.fp8_tflops, g.hbm_gb, g.hbm_gbps, g.tdp_w, g.nvlink_gbps, g.price_usd_per_hour);
      }
    } else if (*what == "nodes") {
      out += fmt::format("{:<28} {:<16} {:>5} {:<16} {:>9} {:>9}\n", "node", "gpu", "gpus", "fabric", "net GB/s", "$/hour");
      for (const auto& [name, n] : catalog->nodes()) {
        out += fmt::format("{:<28} {:<16} {:>5} {:<16} {:>9.1f} {:>9.2f}\n", name, n.gpu, n.gpus_per_node, n.intra_fabric,
                           n.network_gbps, n.price_usd_per_hour);
      }
    } else if (*what == "fabrics") {
      out += fmt::format("{:<16} {:>8} {:>10} {:>10}  {}\n", "fabric", "NIC us", "switch us", "intra us", "notes");
      for (const auto& [name, f] : catalog->fabrics()) {
        out += fmt::format("{:<16} {:>8.2f} {:>10.2f} {:>10.2f}  {}\n", name, f.nic_latency_s * 1e6,
                           f.switch_latency_s * 1e6, f.intra_latency_s * 1e6, f.notes);
      }
    } else if (*what == "profiles") {
      auto stacks = LoadServingStacks(CalibrationRoot(), *catalog);
      if (!stacks.ok()) return ReportError(stacks.status());
      for (const ServingStack& st : *stacks) {
        out += fmt::format("serving stack {} (released {}): {}\n", st.name, st.released, st.description);
        out += fmt::format("  {:<16} {:<13} {:<16} {:<18} {:>10} {:>12} {:>12} {:>12}\n", "gpu", "status",
                           "derived from", "serving times of", "gemm cv", "prefill cv", "decode cv", "end-to-end cv");
        for (const auto& [name, g] : catalog->gpus()) {
          auto p = ProfileForGpu(g, *catalog, st.dir);
          if (!p.ok()) return ReportError(p.status());
          auto err = [&](std::initializer_list<const char*> keys) {
            for (const char* key : keys) {
              auto it = p->fit.find(key);
              if (it != p->fit.end()) return fmt::format("{:.1f}%", it->second.median_ape * 100);
            }
            return std::string("-");
          };
          const std::string host = !p->framework_from.empty() ? p->framework_from
                                   : p->has_end_to_end_fit()   ? "own fit"
                                   : !p->derived_from.empty()  ? p->derived_from
                                                               : "built-in defaults";
          out += fmt::format("  {:<16} {:<13} {:<16} {:<18} {:>10} {:>12} {:>12} {:>12}\n", name, p->status,
                             p->derived_from.empty() ? "-" : p->derived_from, host, err({"gemm"}),
                             err({"splitwise_prefill"}), err({"splitwise_decode"}), err({"end_to_end"}));
        }
        out += "\n";
      }
      out += "(median absolute errors, cross-validated; a scenario picks its stack with serving_stack:, default the most "
             "recent with measurements of every GPU it deploys; see docs/perf-model.md)\n";
    } else {
      out += fmt::format("{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>8} {:>9} {:>10}\n", "model", "layers", "hidden", "heads",
                         "kv", "ffn", "experts", "params B", "KV KB/tok");
      for (const auto& [name, m] : catalog->llms()) {
        out += fmt::format("{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>8} {:>9.1f} {:>10.0f}\n", name, m.layers, m.hidden,
                           m.heads, m.kv_heads, m.ffn, m.num_experts, m.ParamCount() / 1e9, m.KvBytesPerToken() / 1024);
      }
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  };
}

}  // namespace gpufleet
