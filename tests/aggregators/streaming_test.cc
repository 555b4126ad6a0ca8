// Streaming aggregation: sums are exact, so any arrival order gives the same bits, and a rule's
// fold gives bit-for-bit what its aggregate() gives.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "aggregators/exact_weighted_sum.h"
#include "aggregators/update_fold.h"
#include "aggregators/weighted_average.h"
#include "core/options.h"

namespace flotilla {
namespace {

// A model-like state: float32 weights over several orders of magnitude (as trained weights are),
// a float64 tensor, a counter and a flag.
ModelState random_state(uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor magnitude = at::pow(10.0, at::randint(-8, 3, {64, 33}, gen).to(at::kFloat));
  ModelState s;
  s.add("conv.weight", at::randn({64, 33}, gen) * magnitude);
  s.add("fc.bias", at::randn({17}, gen, at::TensorOptions().dtype(at::kDouble)));
  s.add("bn.num_batches_tracked", at::randint(0, 1000, {}, gen).to(at::kLong));
  s.add("flag", at::randint(0, 2, {5}, gen).to(at::kBool));
  return s;
}

std::vector<ClientUpdate> random_updates(int n, uint64_t seed) {
  std::vector<ClientUpdate> updates;
  for (int k = 0; k < n; ++k) updates.emplace_back(k, 1 + (k * 7919 + 13) % 600, random_state(seed * 100 + k));
  return updates;
}

void expect_bit_identical(const ModelState& a, const ModelState& b) {
  ASSERT_TRUE(a.check_same_layout(b).ok());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].tensor, b[i].tensor)) << a[i].name;
}

ModelState mean_in_order(const std::vector<ClientUpdate>& updates, const std::vector<size_t>& order,
                         int64_t* inexact = nullptr) {
  ExactWeightedSum sum(updates.front().state);
  for (size_t k : order) EXPECT_TRUE(sum.add(updates[k].state, updates[k].num_samples).ok());
  if (inexact) *inexact = sum.inexact_elements();
  auto mean = sum.mean();
  EXPECT_TRUE(mean.ok()) << mean.status();
  return *mean;
}

TEST(ExactWeightedSumTest, EveryArrivalOrderGivesTheSameBits) {
  const auto updates = random_updates(8, 1);
  std::vector<size_t> order(updates.size());
  std::iota(order.begin(), order.end(), 0);
  int64_t inexact = -1;
  const ModelState reference = mean_in_order(updates, order, &inexact);
  EXPECT_EQ(inexact, 0);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    expect_bit_identical(mean_in_order(updates, order), reference);
  }
}

TEST(ExactWeightedSumTest, FloatMeanIsTheExactMeanRounded) {
  // The exact weighted mean computed in long double (64-bit mantissa: exact for these sums of
  // 3 float32 values times small integers), rounded to float: the same bits, or one ulp off
  // where double rounding (exact -> double -> float) decides a near-tie.
  const auto updates = random_updates(3, 2);
  auto mean = weighted_average(updates);
  ASSERT_TRUE(mean.ok());
  const at::Tensor got = (*mean)[0].tensor.flatten();
  int64_t total = 0;
  for (const auto& u : updates) total += u.num_samples;
  int64_t off_by_one = 0;
  for (int64_t j = 0; j < got.numel(); ++j) {
    long double s = 0;
    for (const auto& u : updates)
      s += static_cast<long double>(u.num_samples) * u.state[0].tensor.flatten()[j].item<float>();
    const float expected = static_cast<float>(s / total);
    const float value = got[j].item<float>();
    if (value != expected) {
      ++off_by_one;
      EXPECT_EQ(std::nextafter(expected, value), value) << "element " << j;
    }
  }
  EXPECT_LT(off_by_one, got.numel() / 100);
}

TEST(ExactWeightedSumTest, CountersRoundFlagsTakeTheWeightedMajorityHalvesStayHalves) {
  std::vector<ClientUpdate> updates;
  for (auto [n, counter, flag, half] : {std::tuple{1, 10, true, 1.0f}, {3, 21, false, 3.0f}}) {
    ModelState s;
    s.add("count", at::scalar_tensor(int64_t{counter}, at::kLong));
    s.add("flag", at::scalar_tensor(flag, at::kBool));
    s.add("half", at::scalar_tensor(half, at::kHalf));
    updates.emplace_back(static_cast<int>(updates.size()), n, s);
  }
  auto mean = weighted_average(updates);
  ASSERT_TRUE(mean.ok());
  EXPECT_EQ((*mean)[0].tensor.item<int64_t>(), 18);  // (10 + 63) / 4 = 18.25
  EXPECT_FALSE((*mean)[1].tensor.item<bool>());      // weight 1 of 4 says true
  EXPECT_EQ((*mean)[2].tensor.scalar_type(), at::kHalf);
  EXPECT_EQ((*mean)[2].tensor.item<float>(), 2.5f);  // (1 + 9) / 4
}

TEST(ExactWeightedSumTest, SumsThatDoNotFitThePairAreCounted) {
  // 1e30 + 1 + 1e-30 has three clusters of bits ~100 bits apart: a pair of doubles holds two
  // (1e30 + 1e-30 alone would be exact), not three, and the sum says so.
  ExactWeightedSum sum([] {
    ModelState s;
    s.add("w", at::zeros({2}));
    return s;
  }());
  for (float v : {1e30f, 1.0f, 1e-30f}) {
    ModelState s;
    s.add("w", at::tensor(std::vector<float>{v, 1.0f}));
    ASSERT_TRUE(sum.add(s, 1).ok());
  }
  EXPECT_EQ(sum.inexact_elements(), 1);  // the first element only
}

TEST(ExactWeightedSumTest, ARefusedAddLeavesTheSumAsItWas) {
  const auto updates = random_updates(2, 3);
  ExactWeightedSum sum(updates[0].state);
  ASSERT_TRUE(sum.add(updates[0].state, 5).ok());
  ModelState wrong = updates[1].state.clone();
  wrong.mutable_entries()[1].tensor = at::zeros({18}, at::kDouble);
  const Status refused = sum.add(wrong, 3);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("fc.bias"), std::string::npos) << refused;
  EXPECT_FALSE(sum.add(updates[1].state, -1).ok());
  ASSERT_TRUE(sum.add(updates[1].state, 3).ok());
  EXPECT_EQ(sum.count(), 2);
  EXPECT_EQ(sum.total_weight(), 8);

  ExactWeightedSum clean(updates[0].state);
  ASSERT_TRUE(clean.add(updates[0].state, 5).ok());
  ASSERT_TRUE(clean.add(updates[1].state, 3).ok());
  expect_bit_identical(*sum.mean(), *clean.mean());
}

// The pair with lo kept densely for every element, as Flotilla summed before lo blocks: the
// reference the block-sparse lo must match bit for bit.
std::vector<double> dense_pair_mean(const std::vector<ClientUpdate>& updates, size_t tensor) {
  auto two_sum = [](double a, double b, double& s, double& e) {
    s = a + b;
    volatile double bb = s - a;  // volatile: no FMA contraction or reassociation in the test either
    e = (a - (s - bb)) + (b - bb);
  };
  auto add = [&](double v, double& hi, double& lo) {
    double s, e, t, f;
    two_sum(hi, v, s, e);
    two_sum(lo, e, t, f);
    two_sum(s, t, hi, lo);
  };
  const int64_t n = updates.front().state[tensor].tensor.numel();
  std::vector<double> hi(n, 0.0), lo(n, 0.0);
  double total = 0;
  for (const auto& u : updates) {
    const at::Tensor x = u.state[tensor].tensor.to(at::kDouble).flatten();
    const double w = static_cast<double>(u.num_samples);
    for (int64_t j = 0; j < n; ++j) {
      const double v = x[j].item<double>();
      const double p = w * v;
      const double p_error = std::fma(w, v, -p);
      add(p, hi[j], lo[j]);
      if (p_error != 0.0) add(p_error, hi[j], lo[j]);
    }
    total += w;
  }
  std::vector<double> mean(n);
  for (int64_t j = 0; j < n; ++j) mean[j] = hi[j] / total + lo[j] / total;
  return mean;
}

TEST(ExactWeightedSumTest, LoBlocksGiveTheBitsOfADenseLo) {
  // Weights over 11 orders of magnitude: many elements need lo, in some blocks and not others.
  const auto updates = random_updates(6, 4);
  ExactWeightedSum sum(updates.front().state);
  for (const auto& u : updates) ASSERT_TRUE(sum.add(u.state, u.num_samples).ok());
  EXPECT_GT(sum.correction_bytes(), 0);
  const auto mean = sum.mean();
  ASSERT_TRUE(mean.ok()) << mean.status();
  for (size_t t : {size_t{0}, size_t{1}}) {  // the float32 and the float64 tensor
    const std::vector<double> expected = dense_pair_mean(updates, t);
    const at::Tensor got = (*mean)[t].tensor.to(at::kDouble).flatten();
    for (size_t j = 0; j < expected.size(); ++j) {
      const double want = (*mean)[t].tensor.scalar_type() == at::kFloat
                              ? static_cast<double>(static_cast<float>(expected[j]))
                              : expected[j];
      ASSERT_EQ(got[static_cast<int64_t>(j)].item<double>(), want) << (*mean)[t].name << " element " << j;
    }
  }
}

TEST(ExactWeightedSumTest, LoIsHeldOnlyForBlocksWhoseSumsNeedIt) {
  // 3 blocks of float32 values that a double sums exactly (values within 2^10 of each other):
  // no lo at all. Then one element far below its block's others: that block alone gets lo.
  constexpr int64_t kBlock = ExactWeightedSum::kCorrectionBlock;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
  auto state_of = [](at::Tensor w) {
    ModelState s;
    s.add("w", std::move(w));
    return s;
  };
  const at::Tensor base = at::rand({3 * kBlock}, gen) + 0.5;
  ExactWeightedSum sum(state_of(base));
  for (int k = 0; k < 4; ++k) ASSERT_TRUE(sum.add(state_of(base * (1 + 0.01 * k)), 600 + k).ok());
  EXPECT_EQ(sum.correction_bytes(), 0);
  at::Tensor tiny = base.clone();
  tiny[kBlock + 7] = 1e-20f;
  ASSERT_TRUE(sum.add(state_of(tiny), 3).ok());
  EXPECT_EQ(sum.correction_bytes(), kBlock * static_cast<int64_t>(sizeof(double)));
  EXPECT_EQ(sum.inexact_elements(), 0);
}

TEST(ExactWeightedSumTest, NothingToAverageIsAnError) {
  ExactWeightedSum sum(random_state(4));
  EXPECT_FALSE(sum.mean().ok());
  ASSERT_TRUE(sum.add(random_state(5), 0).ok());
  const auto zero = sum.mean();
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("zero samples"), std::string::npos);
}

// Every rule that folds: over three rounds (so server state carries over), updates folded in a
// shuffled order give bit-for-bit what aggregate() gives for the id-sorted round.
TEST(UpdateFoldTest, FoldingInAnyOrderEqualsAggregate) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_aggregators(registry).ok());
  std::mt19937 rng(11);
  for (const std::string name : {"fedavg", "fedavgm", "fedadam", "fedyogi", "fedadagrad"}) {
    SCOPED_TRACE(name);
    auto batch = registry.create(name, Options{{"server_lr", "0.7"}});
    auto streaming = registry.create(name, Options{{"server_lr", "0.7"}});
    ASSERT_TRUE(batch.ok() && streaming.ok());
    ModelState global = random_state(99);
    for (int round = 1; round <= 3; ++round) {
      const auto updates = random_updates(6, static_cast<uint64_t>(round) * 31);
      auto expected = (*batch)->aggregate(AggregationRound{round, &global, updates, {}});
      ASSERT_TRUE(expected.ok()) << expected.status();

      std::unique_ptr<UpdateFold> fold = (*streaming)->begin_fold(global);
      ASSERT_NE(fold, nullptr);
      std::vector<size_t> order(updates.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      for (size_t k : order) ASSERT_TRUE(fold->add(updates[k]).ok());
      EXPECT_EQ(fold->count(), 6);
      auto folded = fold->finish(AggregationRound{round, &global, {}, {}});
      ASSERT_TRUE(folded.ok()) << folded.status();
      EXPECT_EQ(fold->inexact_elements(), 0);
      expect_bit_identical(*folded, *expected);
      global = *expected;
    }
  }
}

TEST(UpdateFoldTest, RulesThatNeedEveryUpdateDoNotFold) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_aggregators(registry).ok());
  const ModelState global = random_state(1);
  for (const std::string name : {"median", "trimmed_mean", "krum"}) {
    auto rule = registry.create(name, Options{});
    ASSERT_TRUE(rule.ok()) << name;
    EXPECT_EQ((*rule)->begin_fold(global), nullptr) << name;
  }
}

TEST(UpdateFoldTest, AnUpdateWithExtrasIsRefusedByAnAveragingFold) {
  const ModelState global = random_state(1);
  WeightedMeanFold fold(global, [](const AggregationRound&, ModelState mean) { return StatusOr<ModelState>(mean); });
  ClientUpdate u(3, 10, random_state(2));
  u.extras.add("c", at::zeros({1}));
  const Status refused = fold.add(u);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("client 3 sent extras"), std::string::npos) << refused;
  EXPECT_EQ(fold.count(), 0);
}

}  // namespace
}  // namespace flotilla
