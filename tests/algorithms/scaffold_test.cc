// SCAFFOLD option II, one client step and one server step on hand-made tensors, against the
// paper's formulas evaluated here in doubles.
#include <gtest/gtest.h>

#include "algorithm_test_util.h"

namespace flotilla {
namespace {

using testing_util::from_values;
using testing_util::make_client;
using testing_util::make_server;
using testing_util::values;

constexpr double kTol = 1e-5;  // float32 parameters

void expect_values(const at::Tensor& got, const std::vector<double>& want, const std::string& what) {
  const std::vector<double> g = values(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g[i], want[i], kTol) << what << "[" << i << "]";
}

// Parameters "w" [2, 2] and "b" [2], float32, given as flat values.
struct Params {
  std::vector<double> w, b;
};

ModelState model_of(const Params& p) {
  ModelState s;
  s.add("w", from_values(p.w, {2, 2}, at::kFloat));
  s.add("b", from_values(p.b, {2}, at::kFloat));
  return s;
}

ModelState group_of(const std::string& group, const Params& p) {
  ModelState s;
  s.add(group + "/w", from_values(p.w, {2, 2}, at::kFloat));
  s.add(group + "/b", from_values(p.b, {2}, at::kFloat));
  return s;
}

std::vector<double> lin(const std::vector<double>& u, double a, const std::vector<double>& v, double b = 1) {
  std::vector<double> out(u.size());
  for (size_t i = 0; i < u.size(); ++i) out[i] = a * u[i] + b * v[i];
  return out;
}

struct ClientFixture {
  TrainConfig config;
  ModelState global, extras, state;
  ClientTask task;

  ClientFixture(const Params& x, const Params& c, const Params* c_i) {
    config.lr = 0.1;
    config.momentum = 0;
    global = model_of(x);
    extras = group_of("c", c);
    if (c_i) state = group_of("c_i", *c_i);
    task.config = &config;
    task.global = &global;
    task.server_extras = &extras;
    task.state = &state;
    task.parameter_names = {"w", "b"};
    task.parameters = {global[0].tensor.clone(), global[1].tensor.clone()};
  }
};

TEST(ScaffoldTest, ClientStepsAlongTheCorrectionAndComputesOptionTwoControlVariate) {
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  const Params c{{0.1, 0.2, 0.3, 0.4}, {-0.1, 0.05}};
  const Params c_i{{0.01, -0.02, 0.03, 0.0}, {0.2, 0.1}};
  ClientFixture f(x, c, &c_i);
  auto client = make_client("scaffold");
  ASSERT_TRUE(client->begin(f.task).ok());

  // after_step: w <- w - lr (c - c_i), so that with plain SGD the step is along g + c - c_i.
  client->after_step(f.task.parameters);
  expect_values(f.task.parameters[0], lin(x.w, 1, lin(c.w, 1, c_i.w, -1), -0.1), "corrected w");
  expect_values(f.task.parameters[1], lin(x.b, 1, lin(c.b, 1, c_i.b, -1), -0.1), "corrected b");

  // Training moved the parameters to y; K = 4 steps at lr 0.1.
  const Params y{{0.8, 2.1, 2.5, 4.0}, {0.7, -0.4}};
  f.task.parameters[0].copy_(from_values(y.w, {2, 2}, at::kFloat));
  f.task.parameters[1].copy_(from_values(y.b, {2}, at::kFloat));
  auto delta = client->finish(f.task, 4);
  ASSERT_TRUE(delta.ok()) << delta.status();
  // c_i+ = c_i - c + (x - y) / (K lr), delta_c = c_i+ - c_i.
  const double s = 1.0 / (4 * 0.1);
  const Params c_plus{lin(lin(c_i.w, 1, c.w, -1), 1, lin(x.w, s, y.w, -s)),
                      lin(lin(c_i.b, 1, c.b, -1), 1, lin(x.b, s, y.b, -s))};
  ASSERT_EQ(delta->size(), 2u);
  EXPECT_EQ((*delta)[0].name, "delta_c/w");
  EXPECT_EQ((*delta)[1].name, "delta_c/b");
  expect_values((*delta)[0].tensor, lin(c_plus.w, 1, c_i.w, -1), "delta_c/w");
  expect_values((*delta)[1].tensor, lin(c_plus.b, 1, c_i.b, -1), "delta_c/b");
  ASSERT_EQ(f.state.size(), 2u);
  EXPECT_EQ(f.state[0].name, "c_i/w");
  EXPECT_EQ(f.state[1].name, "c_i/b");
  EXPECT_TRUE(f.state[0].tensor.device().is_cpu());
  expect_values(f.state[0].tensor, c_plus.w, "state c_i/w");
  expect_values(f.state[1].tensor, c_plus.b, "state c_i/b");
}

TEST(ScaffoldTest, FirstTaskStartsFromZeroClientVariate) {
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  const Params c{{0.1, 0.2, 0.3, 0.4}, {-0.1, 0.05}};
  ClientFixture f(x, c, nullptr);
  auto client = make_client("scaffold");
  ASSERT_TRUE(client->begin(f.task).ok());
  client->after_step(f.task.parameters);
  expect_values(f.task.parameters[1], lin(x.b, 1, c.b, -0.1), "b - lr (c - 0)");
  f.task.parameters[0].copy_(from_values(x.w, {2, 2}, at::kFloat));  // as if the gradient undid it
  f.task.parameters[1].copy_(at::zeros({2}));
  auto delta = client->finish(f.task, 2);
  ASSERT_TRUE(delta.ok()) << delta.status();
  // delta_c = c_i+ - 0 = -c + (x - y) / (K lr); w did not move.
  expect_values((*delta)[0].tensor, lin(c.w, -1, c.w, 0), "delta_c/w");
  expect_values((*delta)[1].tensor, lin(c.b, -1, x.b, 1.0 / (2 * 0.1)), "delta_c/b");
}

TEST(ScaffoldTest, ZeroStepsIsAnError) {
  ClientFixture f({{1, 2, 3, 4}, {0, 0}}, {{0, 0, 0, 0}, {0, 0}}, nullptr);
  auto client = make_client("scaffold");
  ASSERT_TRUE(client->begin(f.task).ok());
  auto delta = client->finish(f.task, 0);
  EXPECT_EQ(delta.status().code(), StatusCode::kInvalidArgument);
}

TEST(ScaffoldTest, WrongServerExtrasAreRefusedByName) {
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  auto client = make_client("scaffold");
  {
    ClientFixture f(x, x, nullptr);
    f.extras = ModelState();
    f.extras.add("c/w", at::zeros({2, 2}));
    f.extras.add("c/bias", at::zeros({2}));
    Status s = client->begin(f.task);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("c/bias"), std::string::npos) << s;
  }
  {
    ClientFixture f(x, x, nullptr);
    f.extras = ModelState();
    f.extras.add("c/w", at::zeros({4}));
    f.extras.add("c/b", at::zeros({2}));
    Status s = client->begin(f.task);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("c/w"), std::string::npos) << s;
    EXPECT_NE(s.message().find("[4]"), std::string::npos) << s;
  }
  {
    ClientFixture f(x, x, nullptr);
    f.extras = ModelState();
    f.extras.add("c/w", at::zeros({2, 2}, at::kDouble));
    f.extras.add("c/b", at::zeros({2}));
    EXPECT_EQ(client->begin(f.task).code(), StatusCode::kInvalidArgument);
  }
  {
    ClientFixture f(x, x, nullptr);
    f.extras = ModelState();
    f.extras.add("c/w", at::full({2, 2}, NAN));
    f.extras.add("c/b", at::zeros({2}));
    EXPECT_EQ(client->begin(f.task).code(), StatusCode::kInvalidArgument);
  }
}

// The global model: trainable w, b, and an integer buffer.
ModelState server_model(const Params& p, int64_t count) {
  ModelState s = model_of(p);
  s.add("count", at::tensor(count));
  return s;
}

TEST(ScaffoldTest, ServerStepsTheModelAndTheControlVariate) {
  auto server = make_server("scaffold", {{"server_lr", "0.5"}});
  EXPECT_EQ(server->client_half().name, "scaffold");
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  const ModelState global = server_model(x, 10);
  ASSERT_TRUE(server->prepare({4, &global, {"w", "b"}, TrainConfig()}).ok());

  const ModelState c0 = server->task_extras(1);
  ASSERT_EQ(c0.size(), 2u);
  EXPECT_EQ(c0[0].name, "c/w");
  EXPECT_EQ(c0[1].name, "c/b");
  EXPECT_EQ(c0[0].tensor.scalar_type(), at::kFloat);
  expect_values(c0[0].tensor, {0, 0, 0, 0}, "c starts at zero");
  const ModelState layout = server->expected_update_extras();
  ASSERT_EQ(layout.size(), 2u);
  EXPECT_EQ(layout[0].name, "delta_c/w");
  EXPECT_TRUE(layout[0].tensor.sizes().equals({2, 2}));

  const Params y1{{2, 2, 2, 2}, {1, 1}}, y2{{0, 4, 3, 8}, {0, -1}};
  const Params d1{{0.4, 0.8, -0.4, 0}, {1, 2}}, d2{{-0.4, 0.4, 0.8, 1.2}, {0.2, 0.6}};
  std::vector<ClientUpdate> ups(2);
  ups[0] = {0, 30, server_model(y1, 12), 0.0, 5, group_of("delta_c", d1)};
  ups[1] = {2, 10, server_model(y2, 20), 0.0, 5, group_of("delta_c", d2)};
  auto out = server->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(out.ok()) << out.status();
  // x + eta_g * sum_i p_i (y_i - x), p = (3/4, 1/4), eta_g = 0.5.
  auto step = [&](const std::vector<double>& xv, const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> r(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) r[i] = xv[i] + 0.5 * (0.75 * (a[i] - xv[i]) + 0.25 * (b[i] - xv[i]));
    return r;
  };
  expect_values((*out)[0].tensor, step(x.w, y1.w, y2.w), "w");
  expect_values((*out)[1].tensor, step(x.b, y1.b, y2.b), "b");
  EXPECT_EQ((*out)[2].tensor.item<int64_t>(), 14);  // 0.75 * 12 + 0.25 * 20, an integer entry

  // c <- c + (1/N) sum_i delta_c_i with N = 4 (two clients sat the round out).
  const ModelState c1 = server->task_extras(2);
  expect_values(c1[0].tensor, lin(d1.w, 0.25, d2.w, 0.25), "c/w");
  expect_values(c1[1].tensor, lin(d1.b, 0.25, d2.b, 0.25), "c/b");

  // And it accumulates.
  ups[1].extras = group_of("delta_c", d1);
  ASSERT_TRUE(server->aggregate({2, &*out, ups, {}}).ok());
  const ModelState c2 = server->task_extras(3);
  expect_values(c2[1].tensor, lin(lin(d1.b, 0.25, d2.b, 0.25), 1, d1.b, 0.5), "c/b after round 2");
}

TEST(ScaffoldTest, ServerRefusesWrongUpdateExtrasByName) {
  auto server = make_server("scaffold");
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  const ModelState global = server_model(x, 0);
  ASSERT_TRUE(server->prepare({2, &global, {"w", "b"}, TrainConfig()}).ok());
  std::vector<ClientUpdate> ups(1);
  ups[0] = {7, 1, global, 0.0, 1, ModelState()};
  ups[0].extras.add("delta_c/w", at::zeros({2, 2}));
  ups[0].extras.add("delta_c/b", at::zeros({3}));
  auto out = server->aggregate({1, &global, ups, {}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("delta_c/b"), std::string::npos) << out.status();
  EXPECT_NE(out.status().message().find("client 7"), std::string::npos) << out.status();

  ups[0].extras = ModelState();
  ups[0].extras.add("c/w", at::zeros({2, 2}));
  ups[0].extras.add("c/b", at::zeros({2}));
  out = server->aggregate({1, &global, ups, {}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("c/w"), std::string::npos) << out.status();
}

TEST(ScaffoldTest, RestoredInstanceAggregatesBitIdentically) {
  const Params x{{1, 2, 3, 4}, {0.5, -0.5}};
  const ModelState global = server_model(x, 0);
  auto a = make_server("scaffold");
  ASSERT_TRUE(a->prepare({3, &global, {"w", "b"}, TrainConfig()}).ok());
  std::vector<ClientUpdate> ups(1);
  ups[0] = {0, 5, server_model({{2, 2, 2, 2}, {1, 1}}, 1), 0.0, 3, group_of("delta_c", {{0.3, 0.1, 0.7, 0.9}, {1, 3}})};
  auto first = a->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(first.ok()) << first.status();
  auto b = make_server("scaffold");
  ASSERT_TRUE(b->prepare({3, &global, {"w", "b"}, TrainConfig()}).ok());
  ASSERT_TRUE(b->restore_state(a->save_state()).ok());
  for (int round = 2; round <= 3; ++round) {
    auto from_a = a->aggregate({round, &*first, ups, {}});
    auto from_b = b->aggregate({round, &*first, ups, {}});
    ASSERT_TRUE(from_a.ok() && from_b.ok());
    for (size_t i = 0; i < from_a->size(); ++i) EXPECT_TRUE(at::equal((*from_a)[i].tensor, (*from_b)[i].tensor));
    const ModelState ca = a->task_extras(round + 1), cb = b->task_extras(round + 1);
    for (size_t i = 0; i < ca.size(); ++i) EXPECT_TRUE(at::equal(ca[i].tensor, cb[i].tensor)) << ca[i].name;
  }
}

}  // namespace
}  // namespace flotilla
