// FedNova: the client's step norm a_i and the server's normalised average, against the paper's
// formulas evaluated here (a_i as an explicit sum over the steps, not the closed form).
#include <gtest/gtest.h>

#include <cmath>

#include "algorithm_test_util.h"

namespace flotilla {
namespace {

using testing_util::make_client;
using testing_util::make_server;
using testing_util::values;

// sum_{t=1..tau} sum_{s=0..t-1} rho^s: the total weight SGD with momentum rho gives the gradients
// of tau steps (each gradient keeps acting through the velocity in the steps after it).
double step_norm_by_sum(int tau, double rho) {
  double a = 0;
  for (int t = 1; t <= tau; ++t) {
    double weight = 0, power = 1;
    for (int s = 0; s < t; ++s, power *= rho) weight += power;
    a += weight;
  }
  return a;
}

double client_step_norm(int64_t steps, double momentum) {
  auto client = make_client("fednova");
  TrainConfig config;
  config.momentum = momentum;
  ModelState state;
  ClientTask task;
  task.config = &config;
  task.state = &state;
  FLOTILLA_CHECK(client->begin(task).ok());
  auto extras = client->finish(task, steps);
  FLOTILLA_CHECK(extras.ok()) << extras.status();
  FLOTILLA_CHECK(extras->size() == 1 && (*extras)[0].name == "fednova/a");
  FLOTILLA_CHECK((*extras)[0].tensor.dim() == 0 && (*extras)[0].tensor.scalar_type() == at::kDouble);
  return (*extras)[0].tensor.item<double>();
}

TEST(FedNovaTest, ClientReportsTheStepNormOfItsOptimizer) {
  EXPECT_DOUBLE_EQ(client_step_norm(2, 0.0), 2.0);
  EXPECT_DOUBLE_EQ(client_step_norm(5, 0.0), 5.0);
  EXPECT_NEAR(client_step_norm(5, 0.9), step_norm_by_sum(5, 0.9), 1e-12);
  EXPECT_NEAR(client_step_norm(2, 0.9), step_norm_by_sum(2, 0.9), 1e-12);  // 1 + 1.9
}

ModelState model(const std::vector<double>& w, int64_t count) {
  ModelState s;
  s.add("w", at::tensor(w, at::kDouble).to(at::kFloat));
  s.add("count", at::tensor(count));
  return s;
}

ModelState extra(double a) {
  ModelState s;
  s.add("fednova/a", at::scalar_tensor(a, at::kDouble));
  return s;
}

// The paper's server step for two clients, entry by entry:
// x - server_lr * tau_eff * sum_i p_i (x - y_i) / a_i, tau_eff = sum_i p_i a_i.
std::vector<double> two_client_step(const std::vector<double>& x, const std::vector<double>& y1,
                                    const std::vector<double>& y2, double a1, double a2, double p1, double server_lr) {
  const double p2 = 1 - p1, tau_eff = p1 * a1 + p2 * a2;
  std::vector<double> next(x.size());
  for (size_t j = 0; j < x.size(); ++j)
    next[j] = x[j] - server_lr * tau_eff * (p1 * (x[j] - y1[j]) / a1 + p2 * (x[j] - y2[j]) / a2);
  return next;
}

TEST(FedNovaTest, ServerAveragesNormalisedUpdates) {
  for (double rho : {0.0, 0.9}) {
    auto server = make_server("fednova", {{"server_lr", "0.8"}});
    EXPECT_EQ(server->client_half().name, "fednova");
    const std::vector<double> x{1.0, -2.0, 0.5}, y1{0.0, -1.0, 0.5}, y2{3.0, -4.0, -1.5};
    const double a1 = step_norm_by_sum(2, rho), a2 = step_norm_by_sum(5, rho);
    const ModelState global = model(x, 0);
    std::vector<ClientUpdate> ups(2);
    ups[0] = {0, 10, model(y1, 4), 0.0, 2, extra(a1)};
    ups[1] = {1, 30, model(y2, 8), 0.0, 5, extra(a2)};
    auto out = server->aggregate({1, &global, ups, {}});
    ASSERT_TRUE(out.ok()) << out.status();
    const double p1 = 0.25, p2 = 0.75;
    const std::vector<double> got = values((*out)[0].tensor), want = two_client_step(x, y1, y2, a1, a2, p1, 0.8);
    for (size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(got[j], want[j], 1e-5) << "rho " << rho << " [" << j << "]";
    EXPECT_EQ((*out)[1].tensor.item<int64_t>(), 7);  // 0.25 * 4 + 0.75 * 8
    // Not FedAvg: the client with more steps would pull harder there.
    const double fedavg = x[0] + 0.8 * (p1 * (y1[0] - x[0]) + p2 * (y2[0] - x[0]));
    EXPECT_GT(std::abs(got[0] - fedavg), 1e-3);
  }
}

// weights=steps (NIID-Bench's FedNova): p_i follows the local steps, not the samples.
TEST(FedNovaTest, StepWeightsFollowTheLocalSteps) {
  auto server = make_server("fednova", {{"weights", "steps"}});
  const std::vector<double> x{1.0, -2.0}, y1{0.0, -1.0}, y2{3.0, -4.0};
  const double a1 = step_norm_by_sum(2, 0.9), a2 = step_norm_by_sum(6, 0.9);
  const ModelState global = model(x, 0);
  std::vector<ClientUpdate> ups(2);
  // Equal samples, 2 and 6 steps: p = 1/4 and 3/4 (by samples it would be 1/2 each).
  ups[0] = {0, 20, model(y1, 0), 0.0, 2, extra(a1)};
  ups[1] = {1, 20, model(y2, 0), 0.0, 6, extra(a2)};
  auto out = server->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<double> got = values((*out)[0].tensor), want = two_client_step(x, y1, y2, a1, a2, 0.25, 1.0);
  for (size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(got[j], want[j], 1e-5) << "[" << j << "]";
  auto by_samples = make_server("fednova")->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(by_samples.ok());
  EXPECT_GT(std::abs(values((*by_samples)[0].tensor)[0] - got[0]), 1e-3);

  ups[1].steps = 0;
  Status no_steps = server->check_update(ups[1]);
  EXPECT_EQ(no_steps.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_steps.message().find("client 1 reported 0 local steps"), std::string::npos) << no_steps;
  EXPECT_FALSE(server->aggregate({1, &global, ups, {}}).ok());
}

TEST(FedNovaTest, UnknownWeightsAreRefused) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_algorithms(registry).ok());
  auto made = registry.create("fednova", Options{{"weights", "batches"}});
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("weights must be samples or steps, got 'batches'"), std::string::npos)
      << made.status();
}

TEST(FedNovaTest, NonPositiveOrNonFiniteStepNormIsRefusedNamingTheClient) {
  auto server = make_server("fednova");
  const ModelState global = model({1.0, 2.0, 3.0}, 0);
  for (double bad : {0.0, -1.0, std::nan("")}) {
    std::vector<ClientUpdate> ups(2);
    ups[0] = {0, 10, model({0, 0, 0}, 0), 0.0, 2, extra(2.0)};
    ups[1] = {4, 10, model({0, 0, 0}, 0), 0.0, 2, extra(bad)};
    auto out = server->aggregate({1, &global, ups, {}});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find("client 4"), std::string::npos) << out.status();
    // The coordinator asks first, as each update arrives, and rejects only that one.
    EXPECT_TRUE(server->check_update(ups[0]).ok());
    Status rejected = server->check_update(ups[1]);
    EXPECT_EQ(rejected.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(rejected.message().find("client 4"), std::string::npos) << rejected;
  }
  std::vector<ClientUpdate> missing(1);
  missing[0] = {3, 10, model({0, 0, 0}, 0), 0.0, 2, ModelState()};
  auto out = server->aggregate({1, &global, missing, {}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("fednova/a"), std::string::npos) << out.status();
}

TEST(FedNovaTest, ZeroStepsIsAnError) {
  auto client = make_client("fednova");
  TrainConfig config;
  ClientTask task;
  task.config = &config;
  ASSERT_TRUE(client->begin(task).ok());
  EXPECT_EQ(client->finish(task, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flotilla
