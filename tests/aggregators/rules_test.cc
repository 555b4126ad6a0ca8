// Each built-in rule against an independent computation in plain doubles.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "aggregators/aggregator.h"
#include "aggregators/krum.h"

namespace flotilla {
namespace {

std::unique_ptr<Aggregator> make(const std::string& name, Options options = {}) {
  AggregatorRegistry registry("aggregator");
  FLOTILLA_CHECK(register_builtin_aggregators(registry).ok());
  auto a = registry.create(name, std::move(options));
  FLOTILLA_CHECK(a.ok()) << a.status();
  return std::move(a).value();
}

ModelState vec_state(const std::vector<double>& w) {
  ModelState s;
  s.add("w", at::tensor(w, at::kDouble));
  return s;
}

std::vector<double> values(const ModelState& s) {
  at::Tensor t = s[0].tensor.to(at::kDouble).contiguous();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

ClientUpdate upd(int id, int64_t n, const std::vector<double>& w) { return ClientUpdate{id, n, vec_state(w), 0}; }

// Weighted mean in doubles.
std::vector<double> mean_of(const std::vector<ClientUpdate>& ups) {
  std::vector<double> out(values(ups[0].state).size(), 0.0);
  double total = 0;
  for (const auto& u : ups) total += static_cast<double>(u.num_samples);
  for (const auto& u : ups) {
    auto v = values(u.state);
    for (size_t j = 0; j < out.size(); ++j) out[j] += v[j] * static_cast<double>(u.num_samples) / total;
  }
  return out;
}

// Three rounds of client models that move with the global model.
std::vector<std::vector<ClientUpdate>> rounds_from(const std::vector<double>& start) {
  std::vector<std::vector<ClientUpdate>> r;
  for (int round = 0; round < 3; ++round) {
    std::vector<ClientUpdate> ups;
    for (int k = 0; k < 3; ++k) {
      std::vector<double> w = start;
      for (size_t j = 0; j < w.size(); ++j) w[j] += 0.1 * (k + 1) * (j % 2 ? -1.0 : 1.0) + 0.05 * round;
      ups.push_back(upd(k, 10 * (k + 1), w));
    }
    r.push_back(ups);
  }
  return r;
}

TEST(FedAvgMTest, MatchesMomentumRecurrenceOverThreeRounds) {
  auto agg = make("fedavgm", {{"server_lr", "0.7"}, {"momentum", "0.5"}});
  std::vector<double> w = {1.0, -2.0, 0.5}, v(3, 0.0);
  ModelState global = vec_state(w);
  for (const auto& ups : rounds_from(w)) {
    auto out = agg->aggregate({1, &global, ups, {}});
    ASSERT_TRUE(out.ok()) << out.status();
    const auto avg = mean_of(ups);
    for (size_t j = 0; j < w.size(); ++j) {
      v[j] = 0.5 * v[j] + (w[j] - avg[j]);
      w[j] -= 0.7 * v[j];
    }
    auto got = values(*out);
    for (size_t j = 0; j < w.size(); ++j) EXPECT_NEAR(got[j], w[j], 1e-12);
    global = *out;
  }
}

struct FedOptCase {
  const char* name;
  double lr, b1, b2, tau;
};

class FedOptTest : public ::testing::TestWithParam<FedOptCase> {};

TEST_P(FedOptTest, MatchesReddiAlgorithm2OverThreeRounds) {
  const FedOptCase c = GetParam();
  auto agg = make(c.name, {{"server_lr", std::to_string(c.lr)},
                           {"beta1", std::to_string(c.b1)},
                           {"beta2", std::to_string(c.b2)},
                           {"tau", std::to_string(c.tau)}});
  std::vector<double> w = {1.0, -2.0, 0.5}, m(3, 0.0), v(3, c.tau * c.tau);
  ModelState global = vec_state(w);
  for (const auto& ups : rounds_from(w)) {
    auto out = agg->aggregate({1, &global, ups, {}});
    ASSERT_TRUE(out.ok()) << out.status();
    const auto avg = mean_of(ups);
    for (size_t j = 0; j < w.size(); ++j) {
      const double d = avg[j] - w[j];
      m[j] = c.b1 * m[j] + (1 - c.b1) * d;
      if (std::string(c.name) == "fedadagrad") v[j] = v[j] + d * d;
      if (std::string(c.name) == "fedadam") v[j] = c.b2 * v[j] + (1 - c.b2) * d * d;
      if (std::string(c.name) == "fedyogi") {
        const double s = v[j] - d * d;
        v[j] = v[j] - (1 - c.b2) * d * d * (s > 0 ? 1.0 : (s < 0 ? -1.0 : 0.0));
      }
      w[j] += c.lr * m[j] / (std::sqrt(v[j]) + c.tau);
    }
    auto got = values(*out);
    for (size_t j = 0; j < w.size(); ++j) EXPECT_NEAR(got[j], w[j], 1e-9) << c.name << " coordinate " << j;
    global = *out;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, FedOptTest,
                         ::testing::Values(FedOptCase{"fedadagrad", 0.1, 0.0, 0.99, 1e-3},
                                           FedOptCase{"fedadam", 0.05, 0.9, 0.99, 1e-3},
                                           FedOptCase{"fedyogi", 0.02, 0.9, 0.9, 1e-2}),
                         [](const auto& param) { return std::string(param.param.name); });

TEST(CoordinateWiseTest, MedianAndTrimmedMeanByHand) {
  // Per coordinate: {1, 5, 2, 100} and {-3, 0, 7, 8}.
  std::vector<ClientUpdate> ups{upd(0, 1, {1, -3}), upd(1, 50, {5, 0}), upd(2, 1, {2, 7}), upd(3, 1, {100, 8})};
  ModelState global = vec_state({0, 0});
  auto median = make("median")->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(median.ok());
  EXPECT_EQ(values(*median), (std::vector<double>{(2 + 5) / 2.0, (0 + 7) / 2.0}));  // unweighted
  // beta 0.25 of 4: drop one from each end -> mean of middle two.
  auto trimmed = make("trimmed_mean", {{"beta", "0.25"}})->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(values(*trimmed), (std::vector<double>{3.5, 3.5}));
  // Odd count: the middle value.
  std::vector<ClientUpdate> three{upd(0, 1, {3}), upd(1, 1, {-1}), upd(2, 1, {10})};
  ModelState g1 = vec_state({0});
  EXPECT_EQ(values(*make("median")->aggregate({1, &g1, three, {}})), (std::vector<double>{3}));
  // beta 0.4 of 3 trims floor(1.2) = 1 from each end: the middle value remains.
  auto trimmed3 = make("trimmed_mean", {{"beta", "0.4"}})->aggregate({1, &g1, three, {}});
  ASSERT_TRUE(trimmed3.ok());
  EXPECT_EQ(values(*trimmed3), (std::vector<double>{3}));
  // beta 0.49 of 2 trims nothing (floor 0.98 = 0), of 5 it trims 2 per end, leaving 1.
  std::vector<ClientUpdate> two(three.begin(), three.begin() + 2);
  EXPECT_EQ(values(*make("trimmed_mean", {{"beta", "0.49"}})->aggregate({1, &g1, two, {}})), (std::vector<double>{1}));
}

TEST(KrumTest, ScoresByHandAndSelection) {
  // Points on a line: 0, 1, 2, 10, 11 with f = 1 -> n - f - 2 = 2 nearest neighbours.
  std::vector<ClientUpdate> ups{upd(0, 1, {0}), upd(1, 1, {1}), upd(2, 1, {2}), upd(3, 1, {10}), upd(4, 3, {11})};
  auto scores = krum_scores(ups, 1);
  // 0: 1+4=5; 1: 1+1=2; 2: 1+4=5; 10: 1+64=65; 11: 1+81=82.
  EXPECT_EQ(scores, (std::vector<double>{5, 2, 5, 65, 82}));
  ModelState global = vec_state({0});
  auto krum = make("krum", {{"f", "1"}})->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(krum.ok());
  EXPECT_EQ(values(*krum), (std::vector<double>{1}));
  // Multi-Krum, m = 3: clients 1, 0, 2 (ties by order), weights 1 each -> mean 1.
  auto multi = make("multi_krum", {{"f", "1"}, {"m", "3"}})->aggregate({1, &global, ups, {}});
  ASSERT_TRUE(multi.ok());
  EXPECT_NEAR(values(*multi)[0], 1.0, 1e-12);
  // Too few clients for f.
  std::vector<ClientUpdate> four(ups.begin(), ups.begin() + 4);
  auto refused = make("krum", {{"f", "1"}})->aggregate({1, &global, four, {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("needs more than 4"), std::string::npos);
}

TEST(RobustnessTest, RobustRulesStayNearTheHonestMeanFedAvgDoesNot) {
  // 5 honest clients: a common model plus N(0, 0.01) noise. 2 Byzantine clients: a scaled update
  // (100x the honest model) and a sign-flipped one (-10x).
  at::manual_seed(0);
  const at::Tensor common = at::randn({200}, at::kDouble);
  std::vector<ClientUpdate> ups;
  for (int k = 0; k < 5; ++k) {
    ClientUpdate u{k, 100, ModelState(), 0};
    u.state.add("w", common + 0.01 * at::randn({200}, at::kDouble));
    ups.push_back(std::move(u));
  }
  ClientUpdate scaled{5, 100, ModelState(), 0}, flipped{6, 100, ModelState(), 0};
  scaled.state.add("w", common * 100);
  flipped.state.add("w", common * -10);
  ups.push_back(std::move(scaled));
  ups.push_back(std::move(flipped));
  at::Tensor honest = at::zeros({200}, at::kDouble);
  for (int k = 0; k < 5; ++k) honest += ups[k].state[0].tensor / 5;
  ModelState global;
  global.add("w", at::zeros({200}, at::kDouble));

  // Bound: 10% of the honest model's norm. The honest spread is 0.01 per coordinate (norm ~0.14
  // over 200 coordinates against ||common|| ~14), so any rule that ignores the two outliers lands
  // within ~1% of it; the Byzantine pair moves the plain mean by (100 - 10 - 2) / 7 ~ 12.6x.
  const double bound = 0.1 * honest.norm().item<double>();
  auto distance = [&](const std::string& name, Options o) {
    auto out = make(name, std::move(o))->aggregate({1, &global, ups, {}});
    FLOTILLA_CHECK(out.ok()) << out.status();
    return ((*out)[0].tensor - honest).norm().item<double>();
  };
  EXPECT_LT(distance("median", {}), bound);
  EXPECT_LT(distance("trimmed_mean", {{"beta", "0.3"}}), bound);  // floor(0.3 * 7) = 2 per end
  EXPECT_LT(distance("krum", {{"f", "2"}}), bound);
  EXPECT_LT(distance("multi_krum", {{"f", "2"}}), bound);
  EXPECT_GT(distance("fedavg", {}), 10 * bound);
}

TEST(OptionValidationTest, EachFactoryRejectsOutOfRangeValues) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_aggregators(registry).ok());
  const std::vector<std::pair<std::string, Options>> bad = {
      {"fedavg", {{"server_lr", "0"}}},     {"fedavgm", {{"momentum", "1"}}},
      {"fedavgm", {{"server_lr", "-1"}}},   {"fedadam", {{"tau", "0"}}},
      {"fedadam", {{"beta1", "1.5"}}},      {"fedyogi", {{"beta2", "-0.1"}}},
      {"fedadagrad", {{"server_lr", "x"}}}, {"trimmed_mean", {{"beta", "0.5"}}},
      {"median", {{"server_lr", "0"}}},     {"krum", {{"f", "-1"}}},
      {"multi_krum", {{"m", "-2"}}},        {"krum", {{"m", "2"}}},
  };
  for (const auto& [name, options] : bad) {
    auto made = registry.create(name, options);
    ASSERT_FALSE(made.ok()) << name << " accepted " << options.values().begin()->first;
    EXPECT_NE(made.status().message().find(options.values().begin()->first), std::string::npos) << made.status();
  }
}

}  // namespace
}  // namespace flotilla
