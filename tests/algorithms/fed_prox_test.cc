// FedProx's client half adds mu (w - w0) to the gradient, w0 the weights at begin().
#include <gtest/gtest.h>

#include "algorithm_test_util.h"

namespace flotilla {
namespace {

using testing_util::make_client;
using testing_util::make_server;
using testing_util::values;

TEST(FedProxTest, CorrectGradientsAddsMuTimesTheDriftFromTheAnchor) {
  auto client = make_client("fedprox", {{"mu", "0.5"}});
  at::Tensor w = at::tensor({1.0, -2.0, 3.0}, at::kDouble);
  ModelState state;
  ClientTask task;
  task.parameter_names = {"w"};
  task.parameters = {w};
  task.state = &state;
  ASSERT_TRUE(client->begin(task).ok());
  w.copy_(at::tensor({1.5, -1.0, 2.0}, at::kDouble));  // a local step moved w
  w.mutable_grad() = at::tensor({0.1, 0.2, 0.3}, at::kDouble);
  client->correct_gradients(task.parameters);
  // g + mu (w - w0) = (0.1 + 0.25, 0.2 + 0.5, 0.3 - 0.5)
  const std::vector<double> got = values(w.grad());
  const std::vector<double> want{0.35, 0.7, -0.2};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
  auto extras = client->finish(task, 1);
  ASSERT_TRUE(extras.ok());
  EXPECT_TRUE(extras->empty());
  EXPECT_TRUE(state.empty());
}

TEST(FedProxTest, ServerAveragesAndNamesItsClientHalfWithMu) {
  auto server = make_server("fedprox", {{"mu", "0.25"}});
  const ClientHalf half = server->client_half();
  EXPECT_EQ(half.name, "fedprox");
  EXPECT_EQ(half.options.at("mu"), "0.25");
  ModelState global, a, b;
  global.add("w", at::zeros({2}, at::kDouble));
  a.add("w", at::tensor({1.0, 2.0}, at::kDouble));
  b.add("w", at::tensor({4.0, 8.0}, at::kDouble));
  std::vector<ClientUpdate> ups{{0, 1, a}, {1, 2, b}};
  auto out = server->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(out.ok()) << out.status();
  // (1 * a + 2 * b) / 3
  EXPECT_NEAR(values((*out)[0].tensor)[0], 3.0, 1e-12);
  EXPECT_NEAR(values((*out)[0].tensor)[1], 6.0, 1e-12);
}

TEST(FedProxTest, NegativeMuIsRefused) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_algorithms(registry).ok());
  auto made = registry.create("fedprox", Options{{"mu", "-1"}});
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("mu"), std::string::npos) << made.status();
}

}  // namespace
}  // namespace flotilla
