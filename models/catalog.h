// The hardware and model catalogs: GPUs, nodes, scale-out fabrics and LLM architectures, loaded from the data files in
// models/catalog/*.yaml. Every figure in those files carries its public source; code never hard-codes a
// GPU or model figure. Scenario loading, the platform builder, the performance, memory and cost models
// all read from one Catalog.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gpufleet {

struct GpuSpec {
  std::string name;            // catalog key, e.g. "H100-SXM-80GB"
  std::string vendor;          // "nvidia", "amd"
  std::string architecture;    // "ampere", "hopper", "ada", "blackwell", "cdna3"
  double fp16_tflops = 0;      // dense fp16/bf16 tensor-core peak (no sparsity)
  double fp8_tflops = 0;       // dense fp8 peak; 0 when the GPU has no fp8 tensor cores
  double hbm_gb = 0;           // device memory, GB (1e9 bytes)
  double hbm_gbps = 0;         // memory bandwidth, GB/s
  double cache_mb = 0;         // last-level on-chip cache (NVIDIA L2, AMD Infinity Cache), MB (1e6 bytes)
  int sm_count = 0;            // streaming multiprocessors (AMD: compute units)
  double boost_clock_mhz = 0;  // the SMs' maximum clock, MHz
  double tdp_w = 0;            // board power (TDP / TGP), W
  double idle_w = 0;           // idle power, W
  double min_power_w = 0;      // lowest settable power limit, W
  double max_power_w = 0;      // highest settable power limit, W
  double nvlink_gbps = 0;      // per-GPU NVLink/Infinity-Fabric bandwidth, one direction, GB/s; 0 = none
  double pcie_gbps = 0;        // host link bandwidth, one direction, GB/s
  double price_usd_per_hour = 0;  // on-demand $/GPU-hour (reference cloud list price)
  std::vector<std::string> sources;
  std::string notes;           // free text: estimates, caveats
};

struct NodeSpec {
  std::string name;            // "DGX-H100", "aws-p5.48xlarge", ...
  std::string gpu;             // GpuSpec::name
  int gpus_per_node = 0;
  std::string intra_fabric;    // "nvswitch", "nvlink-pairs", "pcie", "infinity-fabric"
  double intra_gbps = 0;       // per-GPU bandwidth to its peers inside the node, one direction, GB/s
  double network_gbps = 0;     // node scale-out bandwidth (all NICs), one direction, GB/s
  double price_usd_per_hour = 0;  // whole node on-demand price; 0 = sum of its GPUs' prices
  // Power of everything in the server but its GPUs (CPUs, DRAM, fans, NICs, NVSwitches, storage, PSU
  // losses), W: when the server is on and idle, and at full load (the server's maximum minus
  // gpus_per_node x the GPU's max_power_w). 0 <= non_gpu_idle_w <= non_gpu_max_w.
  double non_gpu_idle_w = 0;
  double non_gpu_max_w = 0;
  std::vector<std::string> sources;
  std::string notes;
};

struct LlmSpec {
  std::string name;            // "Llama-2-70B"
  std::string hf_id;           // "meta-llama/Llama-2-70b-hf"
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;            // = heads for multi-head attention
  int head_dim = 0;            // hidden / heads unless the config says otherwise
  int ffn = 0;                 // intermediate size (per expert for MoE)
  int vocab = 0;
  bool gated_mlp = false;      // SwiGLU-style: three FFN matrices instead of two
  int num_experts = 1;         // MoE experts per layer (1 = dense)
  int experts_per_token = 1;   // MoE top-k
  bool tied_embeddings = false;
  std::string dtype;           // weights/KV dtype as published: "float16", "bfloat16"
  int max_context = 0;         // max_position_embeddings
  std::vector<std::string> sources;
  std::string notes;

  int dtype_bytes() const { return 2; }  // fp16/bf16; quantized serving is a deployment option later
  // Parameter count from the architecture (embeddings, attention, FFN/experts, norms, LM head).
  double ParamCount() const;
  double WeightBytes() const { return ParamCount() * dtype_bytes(); }
  // KV-cache bytes per token for the whole model (all layers, K and V).
  double KvBytesPerToken() const;
};

// A scale-out network technology (models/catalog/fabrics.yaml): what one traversal of each element of a
// route costs. Bandwidths are the nodes' (nodes.yaml); this is latency only.
struct FabricPreset {
  std::string name;              // "infiniband-ndr", ...
  double nic_latency_s = 0;      // one NIC traversal, one direction (host adapter, its PCIe and the cable)
  double switch_latency_s = 0;   // one switch traversal, port to port
  double intra_latency_s = 0;    // one hop inside a node: a GPU to its node's switch (NVSwitch, PCIe)
  std::vector<std::string> sources;
  std::string notes;
};

class Catalog {
 public:
  // Loads gpus.yaml, nodes.yaml, llms.yaml and, when present, fabrics.yaml from `dir`, checking every
  // field and the cross-references (a node's GPU must exist). Errors name file:line:col.
  static absl::StatusOr<Catalog> LoadFromDir(const std::string& dir);
  // The catalog directory: $GPUFLEET_DATA_DIR/models/catalog if set, else the source tree's.
  static std::string DefaultDir();
  // LoadFromDir(DefaultDir()).
  static absl::StatusOr<Catalog> LoadDefault();

  const GpuSpec* FindGpu(const std::string& name) const;
  const NodeSpec* FindNode(const std::string& name) const;
  const LlmSpec* FindLlm(const std::string& name) const;
  const FabricPreset* FindFabric(const std::string& name) const;

  // A node's on-demand $/hour: its own price, or gpus_per_node x its GPU's price when that is 0.
  double NodePriceUsdPerHour(const NodeSpec& node) const;

  const std::map<std::string, GpuSpec>& gpus() const { return gpus_; }
  const std::map<std::string, NodeSpec>& nodes() const { return nodes_; }
  const std::map<std::string, LlmSpec>& llms() const { return llms_; }
  const std::map<std::string, FabricPreset>& fabrics() const { return fabrics_; }

  // Names, for did-you-mean hints and listings.
  std::vector<std::string> GpuNames() const;
  std::vector<std::string> NodeNames() const;
  std::vector<std::string> LlmNames() const;
  std::vector<std::string> FabricNames() const;

 private:
  std::map<std::string, GpuSpec> gpus_;
  std::map<std::string, NodeSpec> nodes_;
  std::map<std::string, LlmSpec> llms_;
  std::map<std::string, FabricPreset> fabrics_;
};

}  // namespace gpufleet
