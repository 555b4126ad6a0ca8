#include "privacy/dp_fedavg.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "aggregators/coordinate_wise.h"
#include "aggregators/fed_avg.h"
#include "aggregators/update_fold.h"
#include "tests/support/model_states.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

ModelState model_of(std::vector<float> w, int64_t counter = 3) {
  ModelState s;
  s.add("w", at::tensor(w, at::kFloat));
  s.add("count", at::full({}, counter, at::kLong));
  return s;
}

DpOptions central(double z, double clip, bool adaptive = false) {
  DpOptions o;
  o.mode = DpMode::kCentral;
  o.noise_multiplier = z;
  o.clip_norm = clip;
  o.adaptive = adaptive;
  return o;
}

std::unique_ptr<DpFedAvg> dp_over_fedavg(const DpOptions& options, double expected, const ModelState& global) {
  auto rule = std::make_unique<DpFedAvg>(std::make_unique<FedAvg>(FedAvgOptions{}), "fedavg", options, expected, 42);
  AlgorithmSetup setup;
  setup.initial = &global;
  EXPECT_TRUE(rule->prepare(setup).ok());
  return rule;
}

StatusOr<ModelState> fold_all(DpFedAvg& rule, const ModelState& global, const std::vector<ClientUpdate>& updates,
                              int round = 1) {
  auto fold = rule.begin_fold(global);
  for (const auto& u : updates) RETURN_IF_ERROR(fold->add(u));
  return fold->finish(AggregationRound{round, &global, {}, {}});
}

TEST(DpFedAvgTest, CentralIsTheClippedSumOverTheExpectedCountPlusNoise) {
  const ModelState global = model_of({0, 0});
  // Deltas (3, 4) (norm 5, clipped to 1: (0.6, 0.8)), (0.3, 0) and (0, 0.4), within the norm.
  const std::vector<ClientUpdate> updates = {ClientUpdate(0, 100, model_of({3, 4}, 9)),
                                             ClientUpdate(1, 1, model_of({0.3f, 0}, 9)),
                                             ClientUpdate(2, 5, model_of({0, 0.4f}, 9))};
  auto rule = dp_over_fedavg(central(1e-6, 1.0), 4.0, global);  // qN = 4, almost no noise
  auto next = fold_all(*rule, global, updates);
  ASSERT_TRUE(next.ok()) << next.status().message();
  // Equal weights whatever the sample counts, and the fixed denominator 4 (not the 3 that answered).
  EXPECT_NEAR((*next)[0].tensor[0].item<double>(), (0.6 + 0.3 + 0) / 4, 1e-5);
  EXPECT_NEAR((*next)[0].tensor[1].item<double>(), (0.8 + 0 + 0.4) / 4, 1e-5);
  EXPECT_EQ((*next)[1].tensor.item<int64_t>(), 3);  // the global counter
  const DpFedAvg::RoundReport& report = rule->last_round();
  EXPECT_EQ(report.updates, 3);
  EXPECT_EQ(report.clipped_by_server, 1);  // the (3, 4) update came unclipped
  EXPECT_DOUBLE_EQ(report.clip_norm, 1.0);
  EXPECT_NEAR(report.noise_stddev, 1e-6 * 1.0 / 4, 1e-15);
}

TEST(DpFedAvgTest, NoiseHasStandardDeviationZTimesClipOverExpectedClients) {
  ModelState global;
  global.add("w", at::zeros({100000}, at::kFloat));
  auto rule = dp_over_fedavg(central(2.0, 0.5), 10.0, global);
  auto next = fold_all(*rule, global, {});  // an empty Poisson sample: the noise alone
  ASSERT_TRUE(next.ok()) << next.status().message();
  const at::Tensor w = (*next)[0].tensor.to(at::kDouble);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.001);
  EXPECT_NEAR(w.std().item<double>(), 2.0 * 0.5 / 10.0, 0.002);
  // Each round draws its own noise.
  auto round2 = fold_all(*rule, global, {}, 2);
  EXPECT_FALSE(at::equal((*round2)[0].tensor, (*next)[0].tensor));
}

TEST(DpFedAvgTest, ResultDoesNotDependOnArrivalOrder) {
  const ModelState global = model_of({0.5f, -0.25f, 1.0f});
  std::vector<ClientUpdate> updates;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0, 1);
  for (int id = 0; id < 12; ++id)
    updates.emplace_back(id, 10 + id, model_of({normal(gen), normal(gen), normal(gen)}, id));
  auto first = dp_over_fedavg(central(1.0, 0.7), 12.0, global);
  auto reference = fold_all(*first, global, updates);
  ASSERT_TRUE(reference.ok());
  std::shuffle(updates.begin(), updates.end(), gen);
  auto second = dp_over_fedavg(central(1.0, 0.7), 12.0, global);
  auto shuffled = fold_all(*second, global, updates);
  ASSERT_TRUE(shuffled.ok());
  EXPECT_TRUE(test_states::same_state(*reference, *shuffled));
}

TEST(DpFedAvgTest, RefusesRulesThatNeedIndividualUpdatesOrExtras) {
  const ModelState global = model_of({0, 0});
  AlgorithmSetup setup;
  setup.initial = &global;
  DpFedAvg median(std::make_unique<CoordinateWise>(-1.0, 1.0), "median", central(1.0, 1.0), 4.0, 1);
  Status refused = median.prepare(setup);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(test_text::contains(refused.message(), "--dp cannot run aggregator 'median'")) << refused.message();
  EXPECT_TRUE(test_text::contains(refused.message(), "needs every client's update")) << refused.message();

  // A rule whose clients send extras (as SCAFFOLD's control variates).
  class WithExtras final : public Aggregator {
   public:
    std::unique_ptr<UpdateFold> begin_fold(const ModelState& g) override {
      return std::make_unique<WeightedMeanFold>(g, [](const AggregationRound&, ModelState m) { return m; });
    }
    ModelState expected_update_extras() const override {
      ModelState extras;
      extras.add("c_delta", at::zeros({2}));
      return extras;
    }
    StatusOr<ModelState> aggregate(const AggregationRound& round) override {
      return aggregate_by_folding(*this, round);
    }
    ModelState save_state() const override { return ModelState(); }
    Status restore_state(const ModelState&) override { return Status(); }
  };
  DpFedAvg extras(std::make_unique<WithExtras>(), "scaffold", central(1.0, 1.0), 4.0, 1);
  refused = extras.prepare(setup);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(test_text::contains(refused.message(), "'c_delta'")) << refused.message();
}

TEST(DpFedAvgTest, AdaptiveClippingMovesTheNormTowardsTheQuantile) {
  const ModelState global = model_of({0, 0});
  DpOptions options = central(1.0, 1.0, /*adaptive=*/true);
  options.count_noise_multiplier = 0.6;  // leaves the update (1 - 1/(4 * 0.36))^(-1/2) of the noise
  auto rule = dp_over_fedavg(options, 10.0, global);
  EXPECT_NEAR(rule->update_noise_multiplier(), 1.0 / std::sqrt(1.0 - 1.0 / 1.44), 1e-12);
  // Ten updates, all over the norm (the clients say so): C grows by about exp(0.2 * 0.5).
  std::vector<ClientUpdate> updates;
  for (int id = 0; id < 10; ++id) {
    ClientUpdate u(id, 1, model_of({0.6f, 0.8f}));
    u.extras.add(kUnclippedExtra, at::scalar_tensor(0.0, at::kFloat));
    ASSERT_TRUE(rule->check_update(u).ok());
    updates.push_back(u);
  }
  ASSERT_TRUE(fold_all(*rule, global, updates).ok());
  EXPECT_EQ(rule->last_round().clipped, 10);
  const double share = rule->last_round().unclipped_share;  // 0 plus count noise 0.6 / 10
  EXPECT_LT(std::abs(share), 0.3);
  EXPECT_NEAR(rule->clip_norm(), std::exp(-0.2 * (share - 0.5)), 1e-9);
  EXPECT_GT(rule->clip_norm(), 1.0);

  ClientUpdate half(0, 1, model_of({0, 0}));
  half.extras.add(kUnclippedExtra, at::scalar_tensor(0.5, at::kFloat));
  EXPECT_FALSE(rule->check_update(half).ok());
  EXPECT_FALSE(rule->check_update(ClientUpdate(0, 1, model_of({0, 0}))).ok());  // no bit at all
}

TEST(DpFedAvgTest, AdaptiveClippingNeedsCountNoiseBelowTheTotal) {
  const ModelState global = model_of({0, 0});
  DpOptions options = central(1.0, 1.0, true);
  options.count_noise_multiplier = 0.4;  // 2 * 0.4 < 1: nothing left for the update
  DpFedAvg rule(std::make_unique<FedAvg>(FedAvgOptions{}), "fedavg", options, 10.0, 1);
  AlgorithmSetup setup;
  setup.initial = &global;
  Status refused = rule.prepare(setup);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(test_text::contains(refused.message(), "count_noise_multiplier")) << refused.message();
}

TEST(DpFedAvgTest, LocalAveragesWhatArrivesWithoutClippingOrNoise) {
  const ModelState global = model_of({0, 0});
  DpOptions options;
  options.mode = DpMode::kLocal;
  auto rule = dp_over_fedavg(options, 100.0, global);
  auto next = fold_all(*rule, global, {ClientUpdate(0, 1, model_of({3, 4})), ClientUpdate(1, 1, model_of({1, 0}))});
  ASSERT_TRUE(next.ok());
  EXPECT_NEAR((*next)[0].tensor[0].item<double>(), 2.0, 1e-6);  // the clients' noised updates, averaged
  EXPECT_NEAR((*next)[0].tensor[1].item<double>(), 2.0, 1e-6);
}

TEST(DpFedAvgTest, StateRoundTripsClipNormAndNoiseKey) {
  const ModelState global = model_of({0, 0});
  DpOptions options = central(1.0, 1.0, true);
  options.count_noise_multiplier = 0.6;
  auto rule = dp_over_fedavg(options, 10.0, global);
  ClientUpdate u(0, 1, model_of({0.6f, 0.8f}));
  u.extras.add(kUnclippedExtra, at::scalar_tensor(1.0, at::kFloat));
  ASSERT_TRUE(fold_all(*rule, global, {u}).ok());
  const ModelState saved = rule->save_state();

  DpFedAvg restored(std::make_unique<FedAvg>(FedAvgOptions{}), "fedavg", options, 10.0, /*another key*/ 99);
  ASSERT_TRUE(restored.restore_state(saved).ok());
  EXPECT_DOUBLE_EQ(restored.clip_norm(), rule->clip_norm());
  // The same key: round 2 adds the same noise in both.
  auto a = fold_all(*rule, global, {u}, 2);
  auto b = fold_all(restored, global, {u}, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(test_states::same_state(*a, *b));

  ModelState bad = saved.clone();
  bad.add("dp/unknown", at::zeros({}));
  EXPECT_FALSE(restored.restore_state(bad).ok());
}

}  // namespace
}  // namespace flotilla
