// Tests for the hardware/model catalogs: the shipped data files load and are self-consistent, the
// architecture formulas reproduce published parameter counts, and malformed catalogs fail with
// file:line:col messages.
#include "models/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace gpufleet {
namespace {

namespace fs = std::filesystem;

std::string SourceCatalogDir() { return std::string(GPUFLEET_SOURCE_DIR) + "/models/catalog"; }

Catalog LoadReal() {
  auto c = Catalog::LoadFromDir(SourceCatalogDir());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : Catalog();
}

// ---------------------------------------------------------------------------------------------------
// The shipped catalog.

TEST(CatalogData, RealCatalogLoads) {
  auto c = Catalog::LoadFromDir(SourceCatalogDir());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GE(c->gpus().size(), 10u);
  EXPECT_GE(c->nodes().size(), 15u);
  EXPECT_GE(c->llms().size(), 13u);
}

TEST(CatalogData, RequiredEntriesPresent) {
  const Catalog c = LoadReal();
  for (const char* g : {"A100-SXM-40GB", "A100-SXM-80GB", "H100-SXM-80GB", "H200-SXM-141GB", "A10G", "L4", "L40S",
                        "A40", "B200", "MI300X"}) {
    EXPECT_NE(c.FindGpu(g), nullptr) << g;
  }
  for (const char* n : {"DGX-A100", "DGX-H100", "HGX-H200", "DGX-B200", "8xL4-server", "8xA40-server",
                        "aws-p4d.24xlarge", "aws-p4de.24xlarge", "aws-p5.48xlarge", "aws-g5.48xlarge",
                        "aws-g5.12xlarge", "aws-g6.48xlarge", "aws-g6.xlarge", "aws-g6e.48xlarge",
                        "azure-ND96amsr-A100-v4", "azure-ND-MI300X-v5", "gcp-a3-highgpu-8g"}) {
    EXPECT_NE(c.FindNode(n), nullptr) << n;
  }
  for (const char* m : {"Llama-2-7B", "Llama-2-13B", "Llama-2-70B", "Llama-3-8B", "Llama-3-70B", "CodeLlama-34B",
                        "Mixtral-8x7B", "Qwen-72B", "InternLM-20B", "Phi-2", "BLOOM-176B", "OPT-66B",
                        "Falcon-180B"}) {
    EXPECT_NE(c.FindLlm(m), nullptr) << m;
  }
  EXPECT_EQ(c.FindGpu("H100"), nullptr);
  EXPECT_EQ(c.GpuNames().size(), c.gpus().size());
  EXPECT_EQ(c.NodeNames().size(), c.nodes().size());
  EXPECT_EQ(c.LlmNames().size(), c.llms().size());
}

TEST(CatalogData, EveryNodeGpuExists) {
  const Catalog c = LoadReal();
  for (const auto& [name, node] : c.nodes()) {
    EXPECT_NE(c.FindGpu(node.gpu), nullptr) << name << " -> " << node.gpu;
    EXPECT_GE(node.gpus_per_node, 1) << name;
    EXPECT_GT(node.intra_gbps, 0) << name;
    EXPECT_GE(node.network_gbps, 0) << name;
    EXPECT_GT(c.NodePriceUsdPerHour(node), 0) << name;
    EXPECT_FALSE(node.sources.empty()) << name;
  }
}

TEST(CatalogData, GpuFiguresSelfConsistent) {
  const Catalog c = LoadReal();
  for (const auto& [name, g] : c.gpus()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(g.name, name);
    EXPECT_GT(g.fp16_tflops, 0);
    EXPECT_TRUE(g.fp8_tflops == 0 || g.fp8_tflops >= g.fp16_tflops) << g.fp8_tflops;
    EXPECT_GT(g.hbm_gb, 0);
    EXPECT_GT(g.hbm_gbps, 0);
    EXPECT_GE(g.idle_w, 0);
    EXPECT_LT(g.idle_w, g.tdp_w);
    EXPECT_LE(g.min_power_w, g.tdp_w);
    EXPECT_LE(g.tdp_w, g.max_power_w);
    EXPECT_GE(g.nvlink_gbps, 0);
    EXPECT_GT(g.pcie_gbps, 0);
    EXPECT_GT(g.price_usd_per_hour, 0);
    EXPECT_FALSE(g.sources.empty());
  }
}

TEST(CatalogData, SpotChecksAgainstDatasheets) {
  const Catalog c = LoadReal();
  const GpuSpec* h100 = c.FindGpu("H100-SXM-80GB");
  ASSERT_NE(h100, nullptr);
  EXPECT_DOUBLE_EQ(h100->fp16_tflops, 989.4);
  EXPECT_DOUBLE_EQ(h100->fp8_tflops, 1978.9);
  EXPECT_DOUBLE_EQ(h100->hbm_gbps, 3350);
  EXPECT_DOUBLE_EQ(h100->cache_mb, 50);  // L2
  EXPECT_EQ(h100->sm_count, 132);
  EXPECT_EQ(h100->boost_clock_mhz, 1980);
  EXPECT_DOUBLE_EQ(h100->nvlink_gbps, 450);  // 900 GB/s bidirectional
  EXPECT_DOUBLE_EQ(h100->tdp_w, 700);
  EXPECT_DOUBLE_EQ(h100->min_power_w, 200);
  const GpuSpec* a100_40 = c.FindGpu("A100-SXM-40GB");
  const GpuSpec* a100_80 = c.FindGpu("A100-SXM-80GB");
  ASSERT_NE(a100_40, nullptr);
  ASSERT_NE(a100_80, nullptr);
  EXPECT_DOUBLE_EQ(a100_40->hbm_gbps, 1555);
  EXPECT_DOUBLE_EQ(a100_80->hbm_gbps, 2039);
  EXPECT_DOUBLE_EQ(a100_80->fp16_tflops, 312);
  EXPECT_DOUBLE_EQ(a100_80->fp8_tflops, 0);
  EXPECT_DOUBLE_EQ(a100_80->nvlink_gbps, 300);
  EXPECT_EQ(c.FindGpu("MI300X")->vendor, "amd");
  EXPECT_EQ(c.FindGpu("L4")->architecture, "ada");

  const NodeSpec* p5 = c.FindNode("aws-p5.48xlarge");
  ASSERT_NE(p5, nullptr);
  EXPECT_EQ(p5->gpu, "H100-SXM-80GB");
  EXPECT_EQ(p5->gpus_per_node, 8);
  EXPECT_DOUBLE_EQ(c.NodePriceUsdPerHour(*p5), 98.32);
  EXPECT_DOUBLE_EQ(p5->network_gbps, 400);  // 3,200 Gb/s EFA
  const NodeSpec* dgx = c.FindNode("DGX-H100");
  ASSERT_NE(dgx, nullptr);
  EXPECT_DOUBLE_EQ(dgx->price_usd_per_hour, 0);
  EXPECT_DOUBLE_EQ(c.NodePriceUsdPerHour(*dgx), 8 * h100->price_usd_per_hour);
  EXPECT_EQ(c.FindNode("aws-g6.xlarge")->gpus_per_node, 1);
}

// Every node carries the power of its non-GPU parts, idle <= max, each backed by a source line naming the
// field (the figure and, where derived, the arithmetic or the estimation rule).
TEST(CatalogData, EveryNodeHasSourcedNonGpuPower) {
  const Catalog c = LoadReal();
  ASSERT_FALSE(c.nodes().empty());
  for (const auto& [name, node] : c.nodes()) {
    SCOPED_TRACE(name);
    EXPECT_GT(node.non_gpu_max_w, 0);
    EXPECT_GE(node.non_gpu_idle_w, 0);
    EXPECT_LE(node.non_gpu_idle_w, node.non_gpu_max_w);
    // Sanity bound: no catalog server spends more than 1 kW per GPU on its non-GPU parts.
    EXPECT_LE(node.non_gpu_max_w, 1000.0 * node.gpus_per_node);
    bool max_sourced = false, idle_sourced = false;
    for (const std::string& s : node.sources) {
      if (s.find("non_gpu_max_w") != std::string::npos && s.find(" W") != std::string::npos) max_sourced = true;
      if (s.find("non_gpu_idle_w") != std::string::npos && s.find(" W") != std::string::npos) idle_sourced = true;
    }
    EXPECT_TRUE(max_sourced) << "no source line for non_gpu_max_w";
    EXPECT_TRUE(idle_sourced) << "no source line for non_gpu_idle_w";
  }
}

TEST(CatalogData, NonGpuPowerMatchesSystemDatasheets) {
  const Catalog c = LoadReal();
  // Datasheet system maxima: non-GPU max + gpus_per_node x the GPU's max power limit.
  const struct {
    const char* node;
    double system_max_w;
  } cases[] = {{"DGX-A100", 6500}, {"DGX-H100", 10200}, {"HGX-H200", 10200}, {"DGX-B200", 14300}};
  for (const auto& k : cases) {
    SCOPED_TRACE(k.node);
    const NodeSpec* n = c.FindNode(k.node);
    ASSERT_NE(n, nullptr);
    const GpuSpec* g = c.FindGpu(n->gpu);
    ASSERT_NE(g, nullptr);
    EXPECT_DOUBLE_EQ(n->non_gpu_max_w + n->gpus_per_node * g->max_power_w, k.system_max_w);
  }
  EXPECT_DOUBLE_EQ(c.FindNode("DGX-H100")->non_gpu_max_w, 4600);
  // Cloud HGX shapes take their reference system's figures.
  EXPECT_DOUBLE_EQ(c.FindNode("aws-p5.48xlarge")->non_gpu_max_w, c.FindNode("DGX-H100")->non_gpu_max_w);
  EXPECT_DOUBLE_EQ(c.FindNode("aws-p4d.24xlarge")->non_gpu_max_w, c.FindNode("DGX-A100")->non_gpu_max_w);
}

TEST(CatalogData, DefaultDirHonoursEnvironment) {
  const char* old = std::getenv("GPUFLEET_DATA_DIR");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("GPUFLEET_DATA_DIR", "/opt/gpufleet", 1);
  EXPECT_EQ(Catalog::DefaultDir(), "/opt/gpufleet/models/catalog");
  unsetenv("GPUFLEET_DATA_DIR");
  EXPECT_EQ(Catalog::DefaultDir(), SourceCatalogDir());
  auto c = Catalog::LoadDefault();
  EXPECT_TRUE(c.ok()) << c.status();
  if (saved) setenv("GPUFLEET_DATA_DIR", saved->c_str(), 1);
}

// ---------------------------------------------------------------------------------------------------
// Architecture formulas.

TEST(CatalogLlm, ParamCountMatchesPublishedSizes) {
  const Catalog c = LoadReal();
  struct Case {
    const char* model;
    double published;  // parameters, from the model card / paper
  };
  const Case cases[] = {
      {"Llama-2-7B", 6.74e9},     {"Llama-2-13B", 13.02e9},   {"Llama-2-70B", 68.98e9},
      {"Llama-3-8B", 8.03e9},     {"Llama-3-70B", 70.55e9},   {"Llama-3.1-405B", 405.9e9},
      {"CodeLlama-34B", 33.74e9}, {"Mistral-7B", 7.24e9},     {"Mixtral-8x7B", 46.7e9},
      {"Qwen-72B", 72.3e9},       {"Qwen2-72B", 72.7e9},      {"InternLM-20B", 20e9},
      {"Phi-2", 2.78e9},          {"BLOOM-176B", 176.2e9},    {"OPT-66B", 66e9},
      {"Falcon-180B", 179e9},
  };
  for (const Case& k : cases) {
    const LlmSpec* m = c.FindLlm(k.model);
    ASSERT_NE(m, nullptr) << k.model;
    EXPECT_NEAR(m->ParamCount() / k.published, 1.0, 0.03) << k.model << ": " << m->ParamCount();
    EXPECT_DOUBLE_EQ(m->WeightBytes(), 2 * m->ParamCount()) << k.model;
  }
}

TEST(CatalogLlm, KvBytesPerToken) {
  const Catalog c = LoadReal();
  EXPECT_DOUBLE_EQ(c.FindLlm("Llama-2-70B")->KvBytesPerToken(), 327680);  // 2*80*8*128*2
  EXPECT_DOUBLE_EQ(c.FindLlm("Llama-2-7B")->KvBytesPerToken(), 524288);   // 2*32*32*128*2
  EXPECT_DOUBLE_EQ(c.FindLlm("Mixtral-8x7B")->KvBytesPerToken(), 131072); // 2*32*8*128*2
  EXPECT_EQ(c.FindLlm("Phi-2")->head_dim, 80);
  EXPECT_EQ(c.FindLlm("Falcon-180B")->head_dim, 64);
}

TEST(CatalogLlm, ParamCountFormulaByHand) {
  LlmSpec m;
  m.layers = 2;
  m.hidden = 8;
  m.heads = 4;
  m.kv_heads = 2;
  m.head_dim = 2;
  m.ffn = 16;
  m.vocab = 10;
  m.gated_mlp = true;
  // embed 80 + head 80 + 2 * (q,o 2*8*4*2=128 + k,v 2*8*2*2=64 + mlp 3*8*16=384 + norms 16) + final 8
  EXPECT_DOUBLE_EQ(m.ParamCount(), 80 + 80 + 2 * (128 + 64 + 384 + 16) + 8);
  m.tied_embeddings = true;
  m.gated_mlp = false;
  m.num_experts = 4;
  // MoE: 4 experts of 2*8*16=256 plus a router of 8*4
  EXPECT_DOUBLE_EQ(m.ParamCount(), 80 + 2 * (128 + 64 + 4 * 256 + 32 + 16) + 8);
  EXPECT_DOUBLE_EQ(m.KvBytesPerToken(), 2 * 2 * 2 * 2 * 2);
}

// ---------------------------------------------------------------------------------------------------
// Malformed catalogs.

// Line numbers below are 1-based and refer to these texts.
constexpr char kGpus[] = R"(gpus:
  - name: G1
    vendor: nvidia
    architecture: hopper
    fp16_tflops: 100
    fp8_tflops: 200
    hbm_gb: 80
    hbm_gbps: 3000
    tdp_w: 700
    idle_w: 70
    min_power_w: 200
    max_power_w: 700
    nvlink_gbps: 450
    pcie_gbps: 64
    price_usd_per_hour: 10
    sources: ["test datasheet, 2024-01"]
    cache_mb: 50
    sm_count: 132
    boost_clock_mhz: 1980
)";

constexpr char kNodes[] = R"(nodes:
  - name: N1
    gpu: G1
    gpus_per_node: 8
    intra_fabric: nvswitch
    intra_gbps: 450
    network_gbps: 400
    price_usd_per_hour: 0
    sources: ["test datasheet, 2024-01"]
    non_gpu_idle_w: 1000
    non_gpu_max_w: 4000
)";

constexpr char kLlms[] = R"(llms:
  - name: M1
    hf_id: org/m1
    layers: 2
    hidden: 64
    heads: 4
    kv_heads: 2
    ffn: 128
    vocab: 100
    gated_mlp: true
    dtype: bfloat16
    max_context: 1024
    sources: ["test config.json, 2024-01"]
)";

// Replaces the one occurrence of `from` in `text`.
std::string Edit(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the base text";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class CatalogErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("gpufleet_catalog_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const char* file, const std::string& text) {
    std::ofstream out(dir_ / file);
    out << text;
  }

  // Writes the three files and returns the load error (empty when the load succeeded).
  std::string Load(const std::string& gpus = kGpus, const std::string& nodes = kNodes,
                   const std::string& llms = kLlms) {
    Write("gpus.yaml", gpus);
    Write("nodes.yaml", nodes);
    Write("llms.yaml", llms);
    auto c = Catalog::LoadFromDir(dir_.string());
    return c.ok() ? "" : std::string(c.status().message());
  }

  fs::path dir_;
};

TEST_F(CatalogErrors, MinimalCatalogLoads) {
  EXPECT_EQ(Load(), "");
  auto c = Catalog::LoadFromDir(dir_.string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->FindLlm("M1")->head_dim, 16);
  EXPECT_EQ(c->FindLlm("M1")->num_experts, 1);
  EXPECT_DOUBLE_EQ(c->NodePriceUsdPerHour(*c->FindNode("N1")), 80);
  EXPECT_DOUBLE_EQ(c->FindNode("N1")->non_gpu_idle_w, 1000);
  EXPECT_DOUBLE_EQ(c->FindNode("N1")->non_gpu_max_w, 4000);
}

TEST_F(CatalogErrors, UnknownKey) {
  const std::string err = Load(Edit(kGpus, "    hbm_gb: 80", "    hbm_gib: 80"));
  EXPECT_NE(err.find("gpus.yaml:7:5: unknown key 'hbm_gib'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'hbm_gb'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, UnknownTopLevelKey) {
  const std::string err = Load(kGpus, Edit(kNodes, "nodes:", "node:"));
  EXPECT_NE(err.find("nodes.yaml:1:1: unknown key 'node'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, WrongType) {
  const std::string err = Load(Edit(kGpus, "tdp_w: 700", "tdp_w: lots"));
  EXPECT_NE(err.find("gpus.yaml:9:12: gpus[0].tdp_w is 'lots'; expected a number"), std::string::npos) << err;
}

TEST_F(CatalogErrors, WrongTypeList) {
  const std::string err = Load(kGpus, kNodes, Edit(kLlms, "layers: 2", "layers: [2]"));
  EXPECT_NE(err.find("llms.yaml:4:13:"), std::string::npos) << err;
  EXPECT_NE(err.find("integer"), std::string::npos) << err;
}

TEST_F(CatalogErrors, NegativeValue) {
  const std::string err = Load(Edit(kGpus, "hbm_gbps: 3000", "hbm_gbps: -5"));
  EXPECT_NE(err.find("gpus.yaml:8:15: gpus[0].hbm_gbps is -5, out of range"), std::string::npos) << err;
}

TEST_F(CatalogErrors, ZeroWherePositiveRequired) {
  const std::string err = Load(kGpus, Edit(kNodes, "intra_gbps: 450", "intra_gbps: 0"));
  EXPECT_NE(err.find("nodes.yaml:6:17:"), std::string::npos) << err;
  EXPECT_NE(err.find("> 0"), std::string::npos) << err;
}

TEST_F(CatalogErrors, NodeWithUnknownGpu) {
  const std::string err = Load(kGpus, Edit(kNodes, "gpu: G1", "gpu: G2"));
  EXPECT_NE(err.find("nodes.yaml:3:10: node 'N1' uses unknown GPU 'G2' (did you mean 'G1'?)"), std::string::npos)
      << err;
}

TEST_F(CatalogErrors, NodeWithAbbreviatedGpuGetsFullNameSuggested) {
  const std::string err = Load(Edit(kGpus, "name: G1", "name: H100-SXM-80GB"), Edit(kNodes, "gpu: G1", "gpu: H100"));
  EXPECT_NE(err.find("nodes.yaml:3:10: node 'N1' uses unknown GPU 'H100' (did you mean 'H100-SXM-80GB'?)"),
            std::string::npos)
      << err;
}

TEST_F(CatalogErrors, DuplicateName) {
  std::string gpus = kGpus;
  gpus += std::string(kGpus).substr(std::string("gpus:\n").size());  // the same entry again, lines 20-37
  const std::string err = Load(gpus);
  EXPECT_NE(err.find("gpus.yaml:20:11: duplicate GPU name 'G1' (first defined at line 2)"), std::string::npos)
      << err;
}

TEST_F(CatalogErrors, YamlSyntaxError) {
  const std::string err = Load(kGpus, kNodes, Edit(kLlms, "layers: 2", "layers: [2"));
  EXPECT_NE(err.find("llms.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("YAML syntax error"), std::string::npos) << err;
}

TEST_F(CatalogErrors, MissingRequiredField) {
  const std::string err = Load(Edit(kGpus, "    tdp_w: 700\n", ""));
  EXPECT_NE(err.find("gpus.yaml:2:5: gpus[0] has no 'tdp_w'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, BadEnum) {
  const std::string err = Load(Edit(kGpus, "vendor: nvidia", "vendor: nvida"));
  EXPECT_NE(err.find("gpus.yaml:3:13:"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'nvidia'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, PowerFiguresInconsistent) {
  EXPECT_NE(Load(Edit(kGpus, "idle_w: 70", "idle_w: 700")).find("gpus.yaml:10:13:"), std::string::npos);
  EXPECT_NE(Load(Edit(kGpus, "min_power_w: 200", "min_power_w: 800")).find("gpus.yaml:11:18:"),
            std::string::npos);
  EXPECT_NE(Load(Edit(kGpus, "max_power_w: 700", "max_power_w: 600")).find("gpus.yaml:12:18:"),
            std::string::npos);
  EXPECT_NE(Load(Edit(kGpus, "fp8_tflops: 200", "fp8_tflops: 50")).find("gpus.yaml:6:17:"), std::string::npos);
}

TEST_F(CatalogErrors, NodePowerNegative) {
  std::string err = Load(kGpus, Edit(kNodes, "non_gpu_max_w: 4000", "non_gpu_max_w: -5"));
  EXPECT_NE(err.find("nodes.yaml:11:20: nodes[0].non_gpu_max_w is -5, out of range; expected a finite number >= 0"),
            std::string::npos)
      << err;
  err = Load(kGpus, Edit(kNodes, "non_gpu_idle_w: 1000", "non_gpu_idle_w: -1"));
  EXPECT_NE(err.find("nodes.yaml:10:21: nodes[0].non_gpu_idle_w is -1, out of range; expected a finite number >= 0"),
            std::string::npos)
      << err;
  err = Load(kGpus, Edit(kNodes, "non_gpu_idle_w: 1000", "non_gpu_idle_w: .nan"));
  EXPECT_NE(err.find("nodes.yaml:10:21:"), std::string::npos) << err;
}

TEST_F(CatalogErrors, NodeIdlePowerAboveMax) {
  const std::string err = Load(kGpus, Edit(kNodes, "non_gpu_idle_w: 1000", "non_gpu_idle_w: 5000"));
  EXPECT_NE(err.find("nodes.yaml:10:21: node 'N1': non_gpu_idle_w 5000 is above non_gpu_max_w 4000; "
                     "expected non_gpu_idle_w <= non_gpu_max_w"),
            std::string::npos)
      << err;
}

TEST_F(CatalogErrors, NodeIdlePowerEqualToMaxAndZeroLoad) {
  EXPECT_EQ(Load(kGpus, Edit(kNodes, "non_gpu_idle_w: 1000", "non_gpu_idle_w: 4000")), "");
  EXPECT_EQ(Load(kGpus, Edit(Edit(kNodes, "non_gpu_idle_w: 1000", "non_gpu_idle_w: 0"), "non_gpu_max_w: 4000",
                             "non_gpu_max_w: 0")),
            "");
}

TEST_F(CatalogErrors, NodePowerMissing) {
  std::string err = Load(kGpus, Edit(kNodes, "    non_gpu_max_w: 4000\n", ""));
  EXPECT_NE(err.find("nodes.yaml:2:5: nodes[0] has no 'non_gpu_max_w'; expected a 'non_gpu_max_w' key"),
            std::string::npos)
      << err;
  err = Load(kGpus, Edit(kNodes, "    non_gpu_idle_w: 1000\n", ""));
  EXPECT_NE(err.find("nodes.yaml:2:5: nodes[0] has no 'non_gpu_idle_w'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, NodePowerKeyMisspelt) {
  const std::string err = Load(kGpus, Edit(kNodes, "non_gpu_max_w: 4000", "non_gpu_max_watts: 4000"));
  EXPECT_NE(err.find("nodes.yaml:11:5: unknown key 'non_gpu_max_watts'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'non_gpu_max_w'"), std::string::npos) << err;
}

TEST_F(CatalogErrors, HeadsNotDivisibleByKvHeads) {
  const std::string err = Load(kGpus, kNodes, Edit(kLlms, "kv_heads: 2", "kv_heads: 3"));
  EXPECT_NE(err.find("llms.yaml:7:15:"), std::string::npos) << err;
  EXPECT_NE(err.find("not a multiple of kv_heads 3"), std::string::npos) << err;
}

TEST_F(CatalogErrors, ExpertsPerTokenAboveExperts) {
  const std::string err =
      Load(kGpus, kNodes, Edit(kLlms, "gated_mlp: true\n", "gated_mlp: true\n    num_experts: 4\n    experts_per_token: 5\n"));
  EXPECT_NE(err.find("llms.yaml:12:24:"), std::string::npos) << err;
}

TEST_F(CatalogErrors, EmptySources) {
  const std::string err = Load(kGpus, Edit(kNodes, "sources: [\"test datasheet, 2024-01\"]", "sources: []"));
  EXPECT_NE(err.find("nodes.yaml:9:14:"), std::string::npos) << err;
}

TEST_F(CatalogErrors, MissingFile) {
  Write("gpus.yaml", kGpus);
  Write("nodes.yaml", kNodes);
  auto c = Catalog::LoadFromDir(dir_.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("llms.yaml"), std::string::npos) << c.status();
}

}  // namespace
}  // namespace gpufleet
