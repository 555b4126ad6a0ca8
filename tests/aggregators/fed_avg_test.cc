#include "aggregators/fed_avg.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "aggregators/weighted_average.h"

namespace flotilla {
namespace {

ClientUpdate update(int id, int64_t n, std::vector<float> w, int64_t counter) {
  ClientUpdate u;
  u.client_id = id;
  u.num_samples = n;
  u.state.add("w", at::tensor(w));
  u.state.add("bn.num_batches_tracked", at::tensor(counter));
  return u;
}

TEST(WeightedAverageTest, MatchesHandComputedMean) {
  // weights 1, 3 -> (1*[1,2] + 3*[5,10]) / 4 = [4, 8]; counters (1*10 + 3*21)/4 = 18.25 -> 18
  std::vector<ClientUpdate> ups{update(0, 1, {1, 2}, 10), update(1, 3, {5, 10}, 21)};
  auto avg = weighted_average(ups);
  ASSERT_TRUE(avg.ok()) << avg.status();
  EXPECT_TRUE(at::equal((*avg)[0].tensor, at::tensor(std::vector<float>{4, 8})));
  EXPECT_EQ((*avg)[1].tensor.item<int64_t>(), 18);
  EXPECT_EQ((*avg)[1].tensor.scalar_type(), at::kLong);
}

TEST(WeightedAverageTest, ThreeClientsUnequalWeights) {
  std::vector<ClientUpdate> ups{update(0, 2, {0.5f, -1}, 0), update(1, 5, {1.5f, 2}, 0), update(2, 3, {-2, 4}, 0)};
  auto avg = weighted_average(ups);
  ASSERT_TRUE(avg.ok());
  const double e0 = (2 * 0.5 + 5 * 1.5 + 3 * -2.0) / 10, e1 = (2 * -1.0 + 5 * 2.0 + 3 * 4.0) / 10;
  EXPECT_FLOAT_EQ((*avg)[0].tensor[0].item<float>(), static_cast<float>(e0));
  EXPECT_FLOAT_EQ((*avg)[0].tensor[1].item<float>(), static_cast<float>(e1));
}

TEST(WeightedAverageTest, RejectsZeroOrNegativeWeights) {
  std::vector<ClientUpdate> zero{update(0, 0, {1}, 0), update(1, 0, {2}, 0)};
  EXPECT_FALSE(weighted_average(zero).ok());
  std::vector<ClientUpdate> neg{update(0, -1, {1}, 0)};
  EXPECT_FALSE(weighted_average(neg).ok());
  EXPECT_FALSE(weighted_average({}).ok());
}

TEST(FedAvgTest, ServerLearningRateScalesTheAveragedUpdate) {
  ModelState global;
  global.add("w", at::tensor(std::vector<float>{1, 1}));
  global.add("bn.num_batches_tracked", at::tensor(int64_t{0}));
  std::vector<ClientUpdate> ups{update(0, 1, {3, 5}, 4), update(1, 1, {5, 7}, 6)};  // mean [4, 6]
  FedAvg half(FedAvgOptions{0.5});
  AggregationRound round{1, &global, ups, {}};
  auto out = half.aggregate(round);
  ASSERT_TRUE(out.ok());
  // 1 + 0.5 * (4 - 1) = 2.5 ; 1 + 0.5 * (6 - 1) = 3.5
  EXPECT_TRUE(at::allclose((*out)[0].tensor, at::tensor(std::vector<float>{2.5f, 3.5f})));
  EXPECT_EQ((*out)[1].tensor.item<int64_t>(), 5);
}

TEST(FedAvgTest, RegistryValidatesOptions) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_aggregators(registry).ok());
  EXPECT_TRUE(registry.create("fedavg").ok());
  EXPECT_FALSE(registry.create("fedavg", Options{{"server_lr", "0"}}).ok());
  EXPECT_FALSE(registry.create("fedavg", Options{{"momentum", "0.9"}}).ok());
}

}  // namespace
}  // namespace flotilla
