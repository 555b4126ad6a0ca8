#include "models/model_registry.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

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

TEST(ModelRegistryTest, BadNamesAndSpecsAreErrors) {
  auto unknown = create_model("resnet1000", {1, 28, 28, 10});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known: cifar_cnn, mlp, mnist_cnn, mnist_net"), std::string::npos);
  EXPECT_FALSE(create_model("mnist_net", {3, 32, 32, 10}).ok());
  EXPECT_FALSE(create_model("mnist_cnn", {1, 30, 30, 10}).ok());
  EXPECT_FALSE(create_model("mlp", {1, 28, 28, 1}).ok());
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

}  // namespace
}  // namespace flotilla
