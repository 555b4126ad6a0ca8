// The example plugin with a client half (examples/custom_algorithm/fedcm.cpp), loaded as a user's
// run loads it and checked against FedCM's formulas computed here.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "aggregators/aggregator.h"
#include "core/plugin_loader.h"
#include "partitioners/partitioner.h"
#include "training/client_algorithm.h"

namespace flotilla {
namespace {

class FedCmPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginRegistrar registrar{&aggregators_, &partitioners_, &halves_};
    Status s = load_plugin(FEDCM_PLUGIN, registrar);
    ASSERT_TRUE(s.ok()) << s;
    global_.add("w", at::tensor({1.0, 2.0}, at::kDouble));
    global_.add("steps_seen", at::tensor(int64_t{3}));
    setup_.num_clients = 4;
    setup_.initial = &global_;
    setup_.trainable = {"w"};
    setup_.train.lr = 0.1;
    setup_.train.momentum = 0;
  }

  AggregatorRegistry aggregators_{"aggregator"};
  PartitionerRegistry partitioners_{"partitioner"};
  ClientAlgorithmRegistry halves_{"client half"};
  ModelState global_;
  AlgorithmSetup setup_;
};

ClientUpdate update(int id, int64_t samples, int64_t steps, std::initializer_list<double> w) {
  ClientUpdate u;
  u.client_id = id;
  u.num_samples = samples;
  u.steps = steps;
  u.state.add("w", at::tensor(std::vector<double>(w), at::kDouble));
  u.state.add("steps_seen", at::tensor(int64_t{3}));
  return u;
}

TEST_F(FedCmPluginTest, RegistersBothHalvesAndNamesItsClientHalf) {
  ASSERT_TRUE(aggregators_.contains("fedcm"));
  ASSERT_TRUE(halves_.contains("fedcm"));
  auto server = aggregators_.create("fedcm", Options{{"alpha", "0.25"}});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->client_half(), (ClientHalf{"fedcm", {{"alpha", "0.25"}}}));
  EXPECT_FALSE(aggregators_.create("fedcm", Options{{"alpha", "0"}}).ok());
  EXPECT_FALSE(halves_.create("fedcm", Options{{"alpha", "1.5"}}).ok());
}

TEST_F(FedCmPluginTest, ARunWithLocalMomentumIsRefusedBeforeRoundOne) {
  auto server = aggregators_.create("fedcm");
  ASSERT_TRUE(server.ok()) << server.status();
  setup_.train.momentum = 0.9;
  Status refused = (*server)->prepare(setup_);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("--momentum 0"), std::string::npos) << refused;
}

// Two clients of 1 and 3 samples with 2 and 4 local steps: the model takes FedAvg's step and
// Delta becomes the weighted mean of (w - w_k) / (K_k lr), sent with the next round's tasks.
TEST_F(FedCmPluginTest, ServerStepsLikeFedAvgAndSendsTheMeanStepDirection) {
  auto server = aggregators_.create("fedcm");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->prepare(setup_).ok());
  const ModelState first = (*server)->task_extras(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].name, "delta/w");
  EXPECT_EQ(first[0].tensor.abs().sum().item<double>(), 0.0) << "no direction before round 1";

  std::vector<ClientUpdate> updates = {update(0, 1, 2, {0.8, 2.2}), update(1, 3, 4, {0.6, 1.0})};
  auto next = (*server)->aggregate({1, &global_, updates, {}});
  ASSERT_TRUE(next.ok()) << next.status();
  // w + sum p_k (w_k - w) with p = 1/4, 3/4.
  EXPECT_NEAR((*next)[0].tensor[0].item<double>(), 1.0 + 0.25 * -0.2 + 0.75 * -0.4, 1e-12);
  EXPECT_NEAR((*next)[0].tensor[1].item<double>(), 2.0 + 0.25 * 0.2 + 0.75 * -1.0, 1e-12);
  const ModelState delta = (*server)->task_extras(2);
  EXPECT_NEAR(delta[0].tensor[0].item<double>(), 0.25 * 0.2 / (2 * 0.1) + 0.75 * 0.4 / (4 * 0.1), 1e-12);
  EXPECT_NEAR(delta[0].tensor[1].item<double>(), 0.25 * -0.2 / (2 * 0.1) + 0.75 * 1.0 / (4 * 0.1), 1e-12);

  // Delta is checkpointed: a fresh instance restored from it sends the same direction.
  auto restored = aggregators_.create("fedcm");
  ASSERT_TRUE((*restored)->prepare(setup_).ok());
  ASSERT_TRUE((*restored)->restore_state((*server)->save_state()).ok());
  EXPECT_TRUE((*restored)->task_extras(2)[0].tensor.equal(delta[0].tensor));
}

TEST_F(FedCmPluginTest, ClientStepsAlongTheBlendOfItsGradientAndDelta) {
  auto half = halves_.create("fedcm", Options{{"alpha", "0.25"}});
  ASSERT_TRUE(half.ok()) << half.status();
  at::Tensor w = at::tensor({1.0, 2.0}, at::kDouble).requires_grad_();
  ModelState extras, state;
  extras.add("delta/w", at::tensor({4.0, -8.0}, at::kDouble));
  ClientTask task;
  task.server_extras = &extras;
  task.global = &global_;
  task.state = &state;
  task.parameter_names = {"w"};
  task.parameters = {w};
  ASSERT_TRUE((*half)->begin(task).ok());
  w.mutable_grad() = at::tensor({2.0, 2.0}, at::kDouble);
  (*half)->correct_gradients(task.parameters);
  EXPECT_NEAR(w.grad()[0].item<double>(), 0.25 * 2 + 0.75 * 4, 1e-12);
  EXPECT_NEAR(w.grad()[1].item<double>(), 0.25 * 2 + 0.75 * -8, 1e-12);
  auto sent = (*half)->finish(task, 1);
  ASSERT_TRUE(sent.ok());
  EXPECT_TRUE(sent->empty());

  ModelState wrong;
  wrong.add("delta/v", at::zeros({2}, at::kDouble));
  task.server_extras = &wrong;
  Status refused = (*half)->begin(task);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("delta/v"), std::string::npos) << refused;
}

}  // namespace
}  // namespace flotilla
