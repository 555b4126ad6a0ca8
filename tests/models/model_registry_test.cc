#include "models/model_registry.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>

namespace flotilla {
namespace {

std::shared_ptr<Model> make(const std::string& name, ModelSpec spec) {
  auto m = create_model(name, spec);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

int64_t parameter_count(Model& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

TEST(ModelRegistryTest, ShapesAndParameterCounts) {
  struct Case {
    const char* name;
    ModelSpec spec;
    int64_t parameters;
  };
  const Case cases[] = {
      {"mnist_cnn", {1, 28, 28, 10}, 1663370},  // the FedAvg paper's figure
      {"mnist_net", {1, 28, 28, 10}, 21840},
      {"cifar_cnn", {3, 32, 32, 10}, 62006},
      {"mlp", {1, 28, 28, 10}, 199210},  // the paper's 2NN
      {"resnet8", {3, 32, 32, 10}, 78042},
      {"resnet8", {1, 28, 28, 10}, 77754},  // 288 fewer stem weights: 2 channels x 16 x 3 x 3
      {"resnet8", {2, 8, 8, 10}, 77898},    // the smallest input it takes
      {"resnet18", {3, 32, 32, 10}, 11173962},
  };
  for (const auto& c : cases) {
    auto model = make(c.name, c.spec);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(parameter_count(*model), c.parameters) << c.name;
    at::Tensor out = model->forward(at::randn({5, c.spec.channels, c.spec.height, c.spec.width}));
    EXPECT_EQ(out.sizes(), (at::IntArrayRef{5, 10})) << c.name;
  }
}

TEST(ModelRegistryTest, StateNamesFollowPyTorch) {
  auto model = make("mnist_cnn", {1, 28, 28, 10});
  ModelState s = model_state(*model);
  std::vector<std::string> names;
  for (const auto& e : s.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                             "fc1.bias", "fc2.weight", "fc2.bias"}));
}

TEST(ModelRegistryTest, ResNetStateNamesAreUniqueAndPyTorchStyle) {
  auto model = make("resnet8", {3, 32, 32, 10});
  ASSERT_NE(model, nullptr);
  ModelState s = model_state(*model);
  const std::regex dotted("[a-z_][a-z0-9_]*(\\.[a-z0-9_]+)*");
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& e : s.entries()) {
    EXPECT_TRUE(std::regex_match(e.name, dotted)) << e.name;
    EXPECT_TRUE(shapes.emplace(e.name, e.tensor.sizes().vec()).second) << "duplicate " << e.name;
  }
  // Stem 3, one block without projection 6, two blocks with one 9 each, fc 2; GroupNorm has no
  // buffers.
  EXPECT_EQ(s.size(), 29u);
  EXPECT_EQ(s[0].name, "conv1.weight");
  EXPECT_EQ(shapes["conv1.weight"], (std::vector<int64_t>{16, 3, 3, 3}));
  EXPECT_EQ(shapes["layer1.0.conv2.weight"], (std::vector<int64_t>{16, 16, 3, 3}));
  EXPECT_EQ(shapes["layer2.0.conv1.weight"], (std::vector<int64_t>{32, 16, 3, 3}));
  EXPECT_EQ(shapes["layer2.0.shortcut.0.weight"], (std::vector<int64_t>{32, 16, 1, 1}));
  EXPECT_EQ(shapes["layer3.0.shortcut.1.bias"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes["layer3.0.gn2.weight"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes["fc.weight"], (std::vector<int64_t>{10, 64}));
  EXPECT_EQ(shapes.count("layer1.0.shortcut.0.weight"), 0u) << "identity shortcut where shapes match";
}

TEST(ModelRegistryTest, ResNetIsKaimingInitialisedAndHalvesTheMapPerStage) {
  at::manual_seed(0);
  auto model = make("resnet8", {3, 32, 32, 10});
  ASSERT_NE(model, nullptr);
  ModelState s = model_state(*model);
  for (const auto& e : s.entries()) {
    if (e.tensor.dim() != 4) continue;
    // Kaiming normal, fan-out mode: std = sqrt(2 / (out_channels * kh * kw)).
    const double expected =
        std::sqrt(2.0 / static_cast<double>(e.tensor.size(0) * e.tensor.size(2) * e.tensor.size(3)));
    EXPECT_NEAR(e.tensor.std().item<double>(), expected, 0.15 * expected) << e.name;
  }
  // A 9x9 input: 9 -> 5 -> 3 after the two stride-2 stages, still one logit row per sample.
  EXPECT_EQ(model->forward(at::randn({2, 3, 9, 9})).sizes(), (at::IntArrayRef{2, 10}));
}

TEST(ModelRegistryTest, ResNetSgdStepLowersTheLossOnATinyBatch) {
  at::manual_seed(0);
  auto model = make("resnet8", {3, 32, 32, 10});
  ASSERT_NE(model, nullptr);
  at::Tensor x = at::randn({8, 3, 32, 32});
  at::Tensor y = at::arange(8, at::kLong);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.05));
  at::Tensor before = torch::nn::functional::cross_entropy(model->forward(x), y);
  opt.zero_grad();
  before.backward();
  opt.step();
  at::Tensor after = torch::nn::functional::cross_entropy(model->forward(x), y);
  EXPECT_LT(after.item<double>(), before.item<double>());
}

TEST(ModelRegistryTest, LoadStateRoundTripsAndRejectsMismatches) {
  auto model = make("mlp", {1, 12, 12, 10});
  ModelState perturbed = model_state(*model).clone();
  for (auto& e : perturbed.mutable_entries()) e.tensor.add_(1.5);
  ASSERT_TRUE(load_model_state(*model, perturbed).ok());
  ModelState back = model_state(*model);
  for (size_t i = 0; i < back.size(); ++i) EXPECT_TRUE(at::equal(back[i].tensor, perturbed[i].tensor));

  ModelState wrong_shape = perturbed.clone();
  wrong_shape.mutable_entries()[0].tensor = at::zeros({3, 3});
  Status s = load_model_state(*model, wrong_shape);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fc1.weight"), std::string::npos) << s;

  ModelState wrong_name = perturbed.clone();
  wrong_name.mutable_entries()[1].name = "fc1.offset";
  EXPECT_NE(load_model_state(*model, wrong_name).message().find("fc1.offset"), std::string::npos);
}

// The client sends its live parameters without a copy (their frames alias the model's storage),
// so the next load must not write into bytes that may still be on their way.
TEST(ModelRegistryTest, LoadStateLeavesSharedStorageToItsHolders) {
  auto model = make("mlp", {1, 4, 4, 10});
  ModelState target = model_state(*model).clone();
  for (auto& e : target.mutable_entries()) e.tensor.fill_(2.0);

  // Nothing outside the model holds its storage: loading writes in place.
  std::vector<const void*> before;
  for (const auto& p : model->parameters()) before.push_back(p.data_ptr());
  ASSERT_TRUE(load_model_state(*model, target).ok());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(model->parameters()[i].data_ptr(), before[i]);

  // A view of the live parameters (an update being sent) keeps its values; the model and handles
  // to its parameters (an optimizer's, an algorithm's) see the new ones.
  ModelState sent = model_state(*model);
  std::vector<at::Tensor> handles = model->parameters();
  for (auto& e : target.mutable_entries()) e.tensor.fill_(3.0);
  ASSERT_TRUE(load_model_state(*model, target).ok());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(sent[i].tensor.eq(2.0).all().item<bool>()) << sent[i].name;
    EXPECT_TRUE(model_state(*model)[i].tensor.eq(3.0).all().item<bool>()) << sent[i].name;
    EXPECT_NE(model_state(*model)[i].tensor.data_ptr(), sent[i].tensor.data_ptr()) << sent[i].name;
    EXPECT_EQ(handles[i].data_ptr(), model_state(*model)[i].tensor.data_ptr()) << sent[i].name;
    EXPECT_TRUE(handles[i].requires_grad()) << sent[i].name;
  }
  // Training still reaches the parameters' new storage.
  at::Tensor loss = model->forward(at::randn({2, 1, 4, 4})).sum();
  loss.backward();
  for (const auto& p : model->parameters()) EXPECT_TRUE(p.grad().defined());
}

TEST(ModelRegistryTest, BadNamesAndSpecsAreErrors) {
  auto unknown = create_model("resnet1000", {1, 28, 28, 10});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known: cifar_cnn, mlp, mnist_cnn, mnist_net"), std::string::npos);
  EXPECT_FALSE(create_model("mnist_net", {3, 32, 32, 10}).ok());
  EXPECT_FALSE(create_model("mnist_cnn", {1, 30, 30, 10}).ok());
  EXPECT_FALSE(create_model("mlp", {1, 28, 28, 1}).ok());
  auto tiny = create_model("resnet8", {3, 7, 32, 10});
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("8x8"), std::string::npos) << tiny.status();
}

TEST(ModelRegistryTest, SeededInitIsReproducible) {
  at::manual_seed(3);
  auto a = make("mnist_net", {1, 28, 28, 10});
  at::manual_seed(3);
  auto b = make("mnist_net", {1, 28, 28, 10});
  ModelState sa = model_state(*a), sb = model_state(*b);
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(at::equal(sa[i].tensor, sb[i].tensor));
}

TEST(ModelRegistryTest, MlpLearnsASeparableProblem) {
  at::manual_seed(0);
  auto model = make("mlp", {1, 4, 4, 2});
  at::Tensor x = at::randn({64, 1, 4, 4});
  at::Tensor y = x.flatten(1).sum(1).gt(0).to(at::kLong);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
  auto loss_of = [&] { return torch::nn::functional::cross_entropy(model->forward(x), y); };
  const double before = loss_of().item<double>();
  for (int step = 0; step < 50; ++step) {
    opt.zero_grad();
    loss_of().backward();
    opt.step();
  }
  EXPECT_LT(loss_of().item<double>(), 0.5 * before);
}

TEST(ModelRegistryTest, WideMlpSizeComesFromItsName) {
  struct Case {
    const char* name;
    ModelSpec spec;
    int64_t parameters;
  };
  const Case cases[] = {
      // 784*4096 + 4096 + 4096*4096 + 4096 + 4096*10 + 10
      {"wide_mlp", {1, 28, 28, 10}, 20037642},
      {"wide_mlp:hidden=64", {1, 28, 28, 10}, 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10},
      {"wide_mlp:layers=1,hidden=32", {1, 4, 4, 3}, 16 * 32 + 32 + 32 * 3 + 3},
      {"wide_mlp:hidden=8,layers=4", {3, 2, 2, 2}, 12 * 8 + 8 + 3 * (8 * 8 + 8) + 8 * 2 + 2},
  };
  for (const auto& c : cases) {
    auto model = make(c.name, c.spec);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(parameter_count(*model), c.parameters) << c.name;
    at::Tensor out = model->forward(at::randn({5, c.spec.channels, c.spec.height, c.spec.width}));
    EXPECT_EQ(out.sizes(), (at::IntArrayRef{5, c.spec.num_classes})) << c.name;
  }
  // The 2NN's state names, the classifier last.
  ModelState s = model_state(*make("wide_mlp:hidden=8,layers=3", {1, 4, 4, 10}));
  std::vector<std::string> names;
  for (const auto& e : s.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
                                             "fc3.bias", "fc4.weight", "fc4.bias"}));
}

TEST(ModelRegistryTest, ModelOptionsAreChecked) {
  auto expect_error = [](const std::string& name, const std::string& needle) {
    auto made = create_model(name, {1, 4, 4, 10});
    ASSERT_FALSE(made.ok()) << name;
    EXPECT_NE(made.status().message().find(needle), std::string::npos) << name << ": " << made.status();
  };
  expect_error("wide_mlp:", "no options");
  expect_error("wide_mlp:hidden", "key=value");
  expect_error("wide_mlp:hidden=8,", "key=value");
  expect_error("wide_mlp:width=8", "its options are: hidden, layers");
  expect_error("wide_mlp:hidden=8,hidden=9", "twice");
  expect_error("wide_mlp:hidden=0", "hidden = 0");
  expect_error("wide_mlp:hidden=2000000", "outside 1 to 1048576");
  expect_error("wide_mlp:layers=65", "layers = 65");
  expect_error("wide_mlp:hidden=1e3", "not an integer");
  expect_error("mlp:hidden=8", "'mlp' has no option 'hidden'");
  expect_error("nope:hidden=8", "unknown model 'nope'");
  bool listed = false;
  for (const auto& m : list_models()) listed = listed || (m.name == "wide_mlp" && m.options.size() == 2);
  EXPECT_TRUE(listed);
}

TEST(ModelRegistryTest, WideMlpSeededInitIsReproducible) {
  at::manual_seed(5);
  auto a = make("wide_mlp:hidden=16", {1, 4, 4, 10});
  at::manual_seed(5);
  auto b = make("wide_mlp:hidden=16", {1, 4, 4, 10});
  ModelState sa = model_state(*a), sb = model_state(*b);
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(at::equal(sa[i].tensor, sb[i].tensor));
}

// A 1.07 GB model (1 GB of RAM for a moment): only with FLOTILLA_LARGE_TESTS=1.
TEST(ModelRegistryTest, LargeWideMlpBuildsInSeconds) {
  const char* large = std::getenv("FLOTILLA_LARGE_TESTS");
  if (large == nullptr || std::string(large) != "1") GTEST_SKIP() << "set FLOTILLA_LARGE_TESTS=1 to build 1 GB";
  const auto start = std::chrono::steady_clock::now();
  auto model = make("wide_mlp:hidden=16000", {1, 28, 28, 10});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_NE(model, nullptr);
  EXPECT_GE(model_state(*model).byte_size(), int64_t{1} << 30);
  EXPECT_LT(seconds, 30.0);  // generous: a shared CI core; it takes a few seconds
  std::printf("wide_mlp:hidden=16000: %.2f GB built in %.2f s\n",
              static_cast<double>(model_state(*model).byte_size()) / 1e9, seconds);
}

}  // namespace
}  // namespace flotilla
