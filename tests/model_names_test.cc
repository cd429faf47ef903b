// Published model and GPU names -> catalog entries (models/calibration/model_names.h): the normalised rule
// on the names the measurement sets use, versions that must not be confused, unknown names with the
// closest catalog names, and the GPU variant default.
#include "models/calibration/model_names.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using ::gpufleet::testing::RealCatalog;

std::string Model(const std::string& published) {
  auto llm = MapModelName(published, RealCatalog(), "test:1");
  return llm.ok() ? (*llm)->name : "error: " + std::string(llm.status().message());
}

std::string Gpu(const std::string& published) {
  auto gpu = MapGpuName(published, RealCatalog(), "test:1");
  return gpu.ok() ? (*gpu)->name : "error: " + std::string(gpu.status().message());
}

TEST(ModelNames, Normalisation) {
  EXPECT_EQ(NormalizeModelName("meta-llama/Llama-3.1-8B-Instruct"), "llama-3.1-8-b-instruct");
  EXPECT_EQ(ModelBaseName("meta-llama/Llama-3.1-8B-Instruct"), "llama-3.1-8-b");
  EXPECT_EQ(NormalizeModelName("llama2-70b"), NormalizeModelName("Llama-2-70B"));
  EXPECT_EQ(NormalizeModelName("Qwen__Qwen3-8B"), "qwen-3-8-b");
  EXPECT_EQ(NormalizeModelName("mistralai/Mixtral-8x7B-v0.1"), "mixtral-8-x-7-b-v-0.1");
  EXPECT_EQ(ModelBaseName("mistralai/Mixtral-8x7B-v0.1"), "mixtral-8-x-7-b");
  EXPECT_EQ(ModelBaseName("Llama-2-7b-chat-hf"), "llama-2-7-b");
  EXPECT_EQ(NormalizeModelName("facebook/opt-6.7b"), "opt-6.7-b");
  EXPECT_EQ(NormalizeGpuName("Nvidia H100 GPU"), "h100");
  EXPECT_EQ(NormalizeGpuName("h100-80gb"), "h100-80gb");
  EXPECT_EQ(NormalizeGpuName("A100-SXM4-80GB"), "a100-sxm-80gb");
}

TEST(ModelNames, PublishedNamesMapToTheCatalog) {
  // Splitwise, ML.ENERGY (model_id and file names), LLM-Inference-Bench, vidur folders.
  EXPECT_EQ(Model("llama2-70b"), "Llama-2-70B");
  EXPECT_EQ(Model("bloom-176b"), "BLOOM-176B");
  EXPECT_EQ(Model("meta-llama/Llama-3.1-8B-Instruct"), "Llama-3.1-8B");
  EXPECT_EQ(Model("meta-llama/Llama-3.1-70B-Instruct"), "Llama-3.1-70B");
  EXPECT_EQ(Model("meta-llama/Llama-3.3-70B-Instruct"), "Llama-3.3-70B");
  EXPECT_EQ(Model("Qwen/Qwen3-8B"), "Qwen3-8B");
  EXPECT_EQ(Model("Qwen__Qwen3-14B"), "Qwen3-14B");
  EXPECT_EQ(Model("Qwen/Qwen3-32B"), "Qwen3-32B");
  EXPECT_EQ(Model("meta-llama/Llama-2-7b-hf"), "Llama-2-7B");
  EXPECT_EQ(Model("meta-llama/Llama-2-70b-hf"), "Llama-2-70B");
  EXPECT_EQ(Model("mistralai/Mistral-7B-v0.1"), "Mistral-7B");
  EXPECT_EQ(Model("mistralai/Mixtral-8x7B-v0.1"), "Mixtral-8x7B");
  EXPECT_EQ(Model("Qwen/Qwen2-7B"), "Qwen2-7B");
  EXPECT_EQ(Model("Qwen/Qwen1.5-7B"), "Qwen1.5-7B");
  EXPECT_EQ(Model("huggyllama/llama-7b"), "LLaMA-7B");
  EXPECT_EQ(Model("facebook/opt-6.7b"), "OPT-6.7B");
  EXPECT_EQ(Model("bigscience/bloom-7b1"), "BLOOM-7B1");
  EXPECT_EQ(Model("EleutherAI/gpt-j-6b"), "GPT-J-6B");
  EXPECT_EQ(Model("BAAI/Aquila-7B"), "Aquila-7B");
  EXPECT_EQ(Model("CodeLlama-34b-Instruct-hf"), "CodeLlama-34B");
  EXPECT_EQ(Model("phi-2"), "Phi-2");
  // Through hf_id: "Meta-Llama-3-8B" is the catalog's Llama-3-8B.
  EXPECT_EQ(Model("meta-llama/Meta-Llama-3-8B-Instruct"), "Llama-3-8B");
}

TEST(ModelNames, VersionNumbersAreNotConfused) {
  EXPECT_EQ(Model("Llama-3.1-8B"), "Llama-3.1-8B");
  EXPECT_EQ(Model("Llama-3-8B"), "Llama-3-8B");
  EXPECT_NE(Model("meta-llama/Llama-3.1-8B-Instruct"), "Llama-3-8B");
  EXPECT_EQ(Model("Llama-3.1-70B"), "Llama-3.1-70B");
  EXPECT_EQ(Model("Qwen2-7B"), "Qwen2-7B");
  EXPECT_NE(Model("Qwen2-7B"), "Qwen1.5-7B");
  EXPECT_EQ(Model("llama-7b"), "LLaMA-7B");  // not Llama-2-7B
  // A version suffix is dropped only when it does not contradict the catalog entry's: Mistral-7B is v0.1.
  EXPECT_EQ(Model("Mistral-7B-Instruct-v0.1"), "Mistral-7B");
  EXPECT_NE(Model("mistralai/Mistral-7B-v0.3").find("error: test:1: model 'mistralai/Mistral-7B-v0.3'"),
            std::string::npos)
      << Model("mistralai/Mistral-7B-v0.3");
}

TEST(ModelNames, UnknownModelNamesWhereAndTheClosestNames) {
  auto llm = MapModelName("Deci/DeciLM-7B", RealCatalog(), "All_results.csv:42");
  ASSERT_FALSE(llm.ok());
  EXPECT_TRUE(absl::IsNotFound(llm.status()));
  const std::string msg(llm.status().message());
  EXPECT_EQ(
      msg.find("All_results.csv:42: model 'Deci/DeciLM-7B' (normalised 'decilm-7-b') is not in the model catalog; "
               "expected one of models/catalog/llms.yaml, closest: "),
      0u)
      << msg;
  // Three suggestions, nearest first.
  const std::string closest = msg.substr(msg.find("closest: ") + 9);
  EXPECT_EQ(std::count(closest.begin(), closest.end(), ','), 2) << closest;
  auto typo = MapModelName("Llama-3.1-8C", RealCatalog(), "x:2");
  ASSERT_FALSE(typo.ok());
  const std::string m2(typo.status().message());
  EXPECT_NE(m2.find("closest: Llama-3.1-8B,"), std::string::npos) << m2;
  EXPECT_FALSE(MapModelName("", RealCatalog(), "x:3").ok());
}

TEST(ModelNames, GpuNames) {
  EXPECT_EQ(Gpu("Nvidia H100 GPU"), "H100-SXM-80GB");
  EXPECT_EQ(Gpu("H100"), "H100-SXM-80GB");
  EXPECT_EQ(Gpu("h100-80gb"), "H100-SXM-80GB");
  EXPECT_EQ(Gpu("H100 80GB HBM3"), "H100-SXM-80GB");
  EXPECT_EQ(Gpu("a100-80gb"), "A100-SXM-80GB");
  // The memory variant not stated: the SXM board with the most memory.
  EXPECT_EQ(Gpu("Nvidia A100 GPU"), "A100-SXM-80GB");
  EXPECT_EQ(Gpu("A100-SXM4-40GB"), "A100-SXM-40GB");
  EXPECT_EQ(Gpu("a40"), "A40");
  EXPECT_EQ(Gpu("AMD MI300X"), "MI300X");
  // A stated vendor must match; a product token must match whole ("h100" is not "gh200").
  EXPECT_NE(Gpu("Nvidia MI300X GPU").find("error:"), std::string::npos);
  const std::string gh200 = Gpu("Nvidia GH200 GPU");
  EXPECT_EQ(gh200.find("error: test:1: GPU 'Nvidia GH200 GPU' (normalised 'gh200') is not in the GPU catalog; expected "
                       "one of models/catalog/gpus.yaml, closest: "),
            0u)
      << gh200;
  EXPECT_NE(Gpu("h100-94gb").find("error:"), std::string::npos);  // a size the catalog does not hold
  EXPECT_FALSE(MapGpuName("Nvidia GPU", RealCatalog(), "x").ok());
}

TEST(ModelNames, ReferenceNode) {
  EXPECT_EQ(ReferenceNode(*RealCatalog().FindGpu("H100-SXM-80GB"), RealCatalog())->name, "DGX-H100");
  EXPECT_EQ(ReferenceNode(*RealCatalog().FindGpu("A100-SXM-80GB"), RealCatalog())->name, "DGX-A100");
  EXPECT_EQ(ReferenceNode(*RealCatalog().FindGpu("A40"), RealCatalog())->name, "8xA40-server");
}

TEST(ModelNames, ClosestNames) {
  const std::vector<std::string> names = {"Llama-2-7B", "Llama-2-13B", "Llama-2-70B", "Phi-2"};
  EXPECT_EQ(ClosestNames("llama-2-70-b", names, &ModelBaseName, 2),
            (std::vector<std::string>{"Llama-2-70B", "Llama-2-7B"}));
  EXPECT_TRUE(ClosestNames("x", {}, &ModelBaseName).empty());
}

}  // namespace
}  // namespace gpufleet
