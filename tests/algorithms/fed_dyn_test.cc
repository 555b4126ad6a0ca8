// FedDyn: the client's penalty, its gradient and the new g_i, and the server's h and model,
// against the paper's formulas evaluated here in doubles.
#include <gtest/gtest.h>

#include "algorithm_test_util.h"

namespace flotilla {
namespace {

using testing_util::make_client;
using testing_util::make_server;
using testing_util::values;

TEST(FedDynTest, LossTermGradientAndStateUpdate) {
  const double alpha = 0.2;
  auto client = make_client("feddyn", {{"alpha", "0.2"}});
  const std::vector<double> prev_p{1, 2, 3}, prev_q{-1, 0.5};
  const std::vector<double> g_p{0.1, -0.2, 0.3}, g_q{0.4, 0.0};
  at::Tensor p = at::tensor(prev_p, at::kDouble).set_requires_grad(true);
  at::Tensor q = at::tensor(prev_q, at::kDouble).set_requires_grad(true);
  ModelState state;
  state.add("grad/p", at::tensor(g_p, at::kDouble));
  state.add("grad/q", at::tensor(g_q, at::kDouble));
  ClientTask task;
  task.parameter_names = {"p", "q"};
  task.parameters = {p, q};
  task.state = &state;
  ASSERT_TRUE(client->begin(task).ok());

  // A local step moved theta.
  const std::vector<double> th_p{1.5, 1.0, 3.25}, th_q{0.0, 0.5};
  p.detach().copy_(at::tensor(th_p, at::kDouble));
  q.detach().copy_(at::tensor(th_q, at::kDouble));
  at::Tensor term = client->loss_term(TrainingStep{});
  ASSERT_TRUE(term.defined());
  double want = 0;
  for (size_t j = 0; j < 3; ++j) want += -g_p[j] * th_p[j] + alpha / 2 * (th_p[j] - prev_p[j]) * (th_p[j] - prev_p[j]);
  for (size_t j = 0; j < 2; ++j) want += -g_q[j] * th_q[j] + alpha / 2 * (th_q[j] - prev_q[j]) * (th_q[j] - prev_q[j]);
  EXPECT_NEAR(term.item<double>(), want, 1e-12);

  // d/dtheta = -g + alpha (theta - theta_prev).
  term.backward();
  const std::vector<double> grad_p = values(p.grad());
  for (size_t j = 0; j < 3; ++j) EXPECT_NEAR(grad_p[j], -g_p[j] + alpha * (th_p[j] - prev_p[j]), 1e-12) << j;

  auto extras = client->finish(task, 3);
  ASSERT_TRUE(extras.ok()) << extras.status();
  EXPECT_TRUE(extras->empty());
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].name, "grad/p");
  EXPECT_EQ(state[1].name, "grad/q");
  const std::vector<double> new_p = values(state[0].tensor), new_q = values(state[1].tensor);
  for (size_t j = 0; j < 3; ++j) EXPECT_NEAR(new_p[j], g_p[j] - alpha * (th_p[j] - prev_p[j]), 1e-12) << j;
  for (size_t j = 0; j < 2; ++j) EXPECT_NEAR(new_q[j], g_q[j] - alpha * (th_q[j] - prev_q[j]), 1e-12) << j;
}

TEST(FedDynTest, FirstTaskHasOnlyTheQuadraticTerm) {
  auto client = make_client("feddyn", {{"alpha", "0.5"}});
  at::Tensor p = at::tensor({1.0, 1.0}, at::kDouble).set_requires_grad(true);
  ModelState state;
  ClientTask task;
  task.parameter_names = {"p"};
  task.parameters = {p};
  task.state = &state;
  ASSERT_TRUE(client->begin(task).ok());
  EXPECT_NEAR(client->loss_term(TrainingStep{}).item<double>(), 0.0, 1e-15);
  p.detach().add_(2.0);
  EXPECT_NEAR(client->loss_term(TrainingStep{}).item<double>(), 0.25 * 8, 1e-12);  // alpha/2 * (4 + 4)
}

TEST(FedDynTest, WrongStateIsRefusedByName) {
  auto client = make_client("feddyn");
  at::Tensor p = at::zeros({2}).set_requires_grad(true);
  ModelState state;
  state.add("grad/p", at::zeros({3}));
  ClientTask task;
  task.parameter_names = {"p"};
  task.parameters = {p};
  task.state = &state;
  Status s = client->begin(task);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("grad/p"), std::string::npos) << s;
}

ModelState model_with_buffer(const std::vector<double>& w, double buffer) {
  ModelState s;
  s.add("w", at::tensor(w, at::kDouble));
  s.add("running_mean", at::tensor({buffer}, at::kDouble));
  return s;
}

TEST(FedDynTest, ServerUpdatesHAndCorrectsTheMean) {
  const double alpha = 0.1, n = 4;
  auto server = make_server("feddyn", {{"alpha", "0.1"}});
  EXPECT_EQ(server->client_half().name, "feddyn");
  EXPECT_EQ(server->client_half().options.at("alpha"), "0.1");
  const std::vector<double> x{1, 2}, y1{2, 2}, y2{0, 5};
  const ModelState global = model_with_buffer(x, 0);
  ASSERT_TRUE(server->prepare({4, &global, {"w"}, TrainConfig()}).ok());
  std::vector<ClientUpdate> ups(2);
  ups[0] = {0, 10, model_with_buffer(y1, 1.0), 0.0, 1, ModelState()};
  ups[1] = {1, 30, model_with_buffer(y2, 3.0), 0.0, 1, ModelState()};
  auto out = server->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> h(2);
  for (size_t j = 0; j < 2; ++j) {
    h[j] = 0 - alpha / n * ((y1[j] - x[j]) + (y2[j] - x[j]));
    EXPECT_NEAR(values((*out)[0].tensor)[j], (y1[j] + y2[j]) / 2 - h[j] / alpha, 1e-12) << j;
  }
  EXPECT_NEAR(values((*out)[1].tensor)[0], 0.25 * 1.0 + 0.75 * 3.0, 1e-12);  // buffer: sample-weighted
  const ModelState saved = server->save_state();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].name, "h/w");
  for (size_t j = 0; j < 2; ++j) EXPECT_NEAR(values(saved[0].tensor)[j], h[j], 1e-12);

  // Round 2 from the new model: h accumulates.
  const std::vector<double> x2 = values((*out)[0].tensor);
  auto out2 = server->aggregate({2, &*out, ups, {}});
  ASSERT_TRUE(out2.ok()) << out2.status();
  for (size_t j = 0; j < 2; ++j) {
    const double h2 = h[j] - alpha / n * ((y1[j] - x2[j]) + (y2[j] - x2[j]));
    EXPECT_NEAR(values((*out2)[0].tensor)[j], (y1[j] + y2[j]) / 2 - h2 / alpha, 1e-12) << j;
  }

  // Fresh instance, restored: bit-identical from here on.
  auto restored = make_server("feddyn", {{"alpha", "0.1"}});
  ASSERT_TRUE(restored->prepare({4, &global, {"w"}, TrainConfig()}).ok());
  ASSERT_TRUE(restored->restore_state(server->save_state()).ok());
  auto a = server->aggregate({3, &*out2, ups, {}});
  auto b = restored->aggregate({3, &*out2, ups, {}});
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_TRUE(at::equal((*a)[i].tensor, (*b)[i].tensor)) << (*a)[i].name;
}

TEST(FedDynTest, UnpreparedServerSaysSo) {
  auto server = make_server("feddyn");
  const ModelState global = model_with_buffer({1, 2}, 0);
  std::vector<ClientUpdate> ups(1);
  ups[0] = {0, 10, global, 0.0, 1, ModelState()};
  EXPECT_EQ(server->aggregate({1, &global, ups, {}}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace flotilla
