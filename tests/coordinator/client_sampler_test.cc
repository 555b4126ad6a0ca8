#include "coordinator/client_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "coordinator/coordinator_config.h"

namespace flotilla {
namespace {

std::vector<int> ids(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ClientSamplerTest, DeterministicSortedAndDistinct) {
  auto a = sample_clients(ids(100), 10, 42, 3);
  EXPECT_EQ(a, sample_clients(ids(100), 10, 42, 3));
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 10u);
  EXPECT_NE(a, sample_clients(ids(100), 10, 42, 4)) << "rounds should differ";
  EXPECT_NE(a, sample_clients(ids(100), 10, 43, 3)) << "seeds should differ";
}

TEST(ClientSamplerTest, CoversEveryoneOverManyRounds) {
  std::vector<int> hits(20, 0);
  for (int round = 1; round <= 400; ++round)
    for (int id : sample_clients(ids(20), 5, 1, round)) ++hits[id];
  // Expected 100 hits each; uniform sampling stays well within 50..150.
  for (int h : hits) {
    EXPECT_GT(h, 50);
    EXPECT_LT(h, 150);
  }
}

TEST(ClientSamplerTest, AllWhenCountCoversPool) {
  EXPECT_EQ(sample_clients({5, 1, 3}, 3, 0, 1), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(sample_clients({5, 1, 3}, 9, 0, 1), (std::vector<int>{1, 3, 5}));
}

TEST(CoordinatorConfigTest, SampleSizeHonoursFractionAndMinFit) {
  CoordinatorConfig c;
  c.experiment.num_clients = 100;
  c.fraction = 0.1;
  c.min_fit = 1;
  EXPECT_EQ(c.sample_size(100), 10);
  c.min_fit = 20;
  EXPECT_EQ(c.sample_size(100), 20);
  EXPECT_EQ(c.sample_size(15), 15);
  c.fraction = 1.0;
  c.min_fit = 1;
  EXPECT_EQ(c.sample_size(7), 7);
}

}  // namespace
}  // namespace flotilla
