// MOON's contrastive term on a tiny Model with fixed weights and a fixed batch, against the
// cosines and the loss computed here element by element.
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <cmath>

#include "algorithm_test_util.h"
#include "models/model.h"

namespace flotilla {
namespace {

using testing_util::make_client;
using testing_util::make_server;
using testing_util::values;

// features = feat(x) (3 -> 2), classify = head(z) (2 -> 2).
class TinyModel : public Model {
 public:
  TinyModel() {
    feat_ = register_module("feat", torch::nn::Linear(3, 2));
    head_ = register_module("head", torch::nn::Linear(2, 2));
    to(at::kDouble);
  }
  at::Tensor features(const at::Tensor& x) override { return feat_->forward(x); }
  at::Tensor classify(const at::Tensor& z) override { return head_->forward(z); }

 private:
  torch::nn::Linear feat_{nullptr}, head_{nullptr};
};

// Weights of the representation layer (2x3, row-major) and its bias.
struct Feat {
  std::vector<double> w, b;
};

ModelState state_of(const Feat& f) {
  ModelState s;
  s.add("feat.weight", at::tensor(f.w, at::kDouble).reshape({2, 3}));
  s.add("feat.bias", at::tensor(f.b, at::kDouble));
  s.add("head.weight", at::tensor({1.0, 0.0, 0.0, 1.0}, at::kDouble).reshape({2, 2}));
  s.add("head.bias", at::tensor({0.0, 0.0}, at::kDouble));
  return s;
}

std::shared_ptr<TinyModel> build(const ModelState& s) {
  auto m = std::make_shared<TinyModel>();
  FLOTILLA_CHECK(load_model_state(*m, s).ok());
  return m;
}

// z_r = W x_r + b for every row r of the batch.
std::vector<std::vector<double>> features_by_hand(const Feat& f, const std::vector<std::vector<double>>& batch) {
  std::vector<std::vector<double>> out;
  for (const auto& x : batch) {
    std::vector<double> z(2);
    for (int i = 0; i < 2; ++i) {
      z[i] = f.b[i];
      for (int j = 0; j < 3; ++j) z[i] += f.w[3 * i + j] * x[j];
    }
    out.push_back(z);
  }
  return out;
}

double cosine(const std::vector<double>& u, const std::vector<double>& v) {
  double uv = 0, uu = 0, vv = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    uv += u[i] * v[i];
    uu += u[i] * u[i];
    vv += v[i] * v[i];
  }
  return uv / std::sqrt(uu * vv);
}

TEST(MoonTest, LossTermIsTheModelContrastiveLoss) {
  const double mu = 2.0, tau = 0.5;
  auto client = make_client("moon", {{"mu", "2"}, {"temperature", "0.5"}});
  ASSERT_TRUE(client->needs_features());
  const Feat local{{1, 0, 2, -1, 1, 0}, {0.1, -0.2}};
  const Feat global{{0.5, 0.5, 1, 0, 1, 1}, {0, 0}};
  const Feat previous{{-1, 2, 0, 1, 0, -1}, {0.3, 0.3}};
  const std::vector<std::vector<double>> batch{{1, 2, 3}, {-1, 0.5, 2}, {0, 1, -1}};

  auto model = build(state_of(local));
  const ModelState global_state = state_of(global);
  ModelState client_state = state_of(previous);
  ClientTask task;
  task.global = &global_state;
  task.state = &client_state;
  task.model = model.get();
  task.make_model = [](const ModelState& s) -> StatusOr<std::shared_ptr<Model>> {
    auto m = std::make_shared<TinyModel>();
    RETURN_IF_ERROR(load_model_state(*m, s));
    m->eval();
    return std::shared_ptr<Model>(m);
  };
  ASSERT_TRUE(client->begin(task).ok());

  at::Tensor x = at::tensor({1.0, 2.0, 3.0, -1.0, 0.5, 2.0, 0.0, 1.0, -1.0}, at::kDouble).reshape({3, 3});
  at::Tensor y = at::zeros({3}, at::kLong);
  at::Tensor z = model->features(x);
  at::Tensor logits = model->classify(z);
  at::Tensor term = client->loss_term(TrainingStep{model.get(), &x, &y, &logits, &z, 0});
  ASSERT_TRUE(term.defined());

  const auto zl = features_by_hand(local, batch), zg = features_by_hand(global, batch),
             zp = features_by_hand(previous, batch);
  double want = 0;
  for (size_t r = 0; r < batch.size(); ++r) {
    const double sg = cosine(zl[r], zg[r]) / tau, sp = cosine(zl[r], zp[r]) / tau;
    want += -std::log(std::exp(sg) / (std::exp(sg) + std::exp(sp)));
  }
  want = mu * want / static_cast<double>(batch.size());
  EXPECT_NEAR(term.item<double>(), want, 1e-10);

  // The term trains the local model only: the frozen models get no gradient.
  term.backward();
  EXPECT_TRUE(model->parameters()[0].grad().defined());

  // finish keeps the trained model as the next task's previous model.
  auto extras = client->finish(task, 1);
  ASSERT_TRUE(extras.ok()) << extras.status();
  EXPECT_TRUE(extras->empty());
  const ModelState want_state = state_of(local);
  ASSERT_TRUE(want_state.check_same_layout(client_state).ok());
  for (size_t i = 0; i < want_state.size(); ++i)
    EXPECT_TRUE(at::equal(client_state[i].tensor, want_state[i].tensor)) << want_state[i].name;
}

TEST(MoonTest, FirstTaskUsesTheGlobalModelAsThePreviousOne) {
  auto client = make_client("moon", {{"mu", "1"}, {"temperature", "1"}});
  const Feat local{{1, 0, 2, -1, 1, 0}, {0.1, -0.2}};
  const Feat global{{0.5, 0.5, 1, 0, 1, 1}, {0, 0}};
  auto model = build(state_of(local));
  const ModelState global_state = state_of(global);
  ModelState client_state;
  ClientTask task;
  task.global = &global_state;
  task.state = &client_state;
  task.model = model.get();
  task.make_model = [](const ModelState& s) -> StatusOr<std::shared_ptr<Model>> {
    auto m = std::make_shared<TinyModel>();
    RETURN_IF_ERROR(load_model_state(*m, s));
    return std::shared_ptr<Model>(m);
  };
  ASSERT_TRUE(client->begin(task).ok());
  at::Tensor x = at::tensor({1.0, 2.0, 3.0}, at::kDouble).reshape({1, 3});
  at::Tensor z = model->features(x);
  at::Tensor term = client->loss_term(TrainingStep{model.get(), &x, nullptr, nullptr, &z, 0});
  // Both pairs are the same: -log(1/2).
  EXPECT_NEAR(term.item<double>(), std::log(2.0), 1e-12);
}

TEST(MoonTest, WithoutAModelBeginFailsCleanly) {
  auto client = make_client("moon");
  ModelState global, state;
  ClientTask task;
  task.global = &global;
  task.state = &state;
  EXPECT_EQ(client->begin(task).code(), StatusCode::kFailedPrecondition);
}

TEST(MoonTest, ServerAveragesAndPassesItsOptions) {
  auto server = make_server("moon", {{"mu", "5"}});
  const ClientHalf half = server->client_half();
  EXPECT_EQ(half.name, "moon");
  EXPECT_EQ(half.options.at("mu"), "5");
  EXPECT_EQ(half.options.at("temperature"), "0.5");
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_algorithms(registry).ok());
  EXPECT_FALSE(registry.create("moon", Options{{"temperature", "0"}}).ok());
}

}  // namespace
}  // namespace flotilla
