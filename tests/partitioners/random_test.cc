#include "partitioners/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace flotilla {
namespace {

TEST(RngTest, SameSeedSameStream) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(Rng(7).next_u64(), c.next_u64());
  EXPECT_NE(derive_seed(1, 0), derive_seed(1, 1));
  EXPECT_NE(derive_seed(1, 0), derive_seed(2, 0));
}

TEST(RngTest, KnownFirstDrawsArePortable) {
  // mt19937_64 is specified exactly by the standard: these values hold on every platform.
  Rng rng(5489);
  EXPECT_EQ(rng.next_u64(), 14514284786278117030ULL);
}

TEST(RngTest, MomentsAreRight) {
  Rng rng(3);
  const int n = 20000;
  double u = 0, z = 0, z2 = 0, g = 0, g_small = 0;
  for (int i = 0; i < n; ++i) {
    u += rng.uniform();
    const double x = rng.normal();
    z += x;
    z2 += x * x;
    g += rng.gamma(2.5);
    g_small += rng.gamma(0.3);
  }
  // Standard errors: uniform 0.29/sqrt(n) = 0.002; normal 0.007; gamma(2.5) sqrt(2.5)/sqrt(n) = 0.011.
  EXPECT_NEAR(u / n, 0.5, 0.01);
  EXPECT_NEAR(z / n, 0.0, 0.03);
  EXPECT_NEAR(z2 / n, 1.0, 0.05);
  EXPECT_NEAR(g / n, 2.5, 0.06);
  EXPECT_NEAR(g_small / n, 0.3, 0.03);
}

TEST(RngTest, DirichletIsADistribution) {
  Rng rng(11);
  for (double alpha : {0.01, 0.5, 100.0}) {
    auto p = rng.dirichlet(alpha, 10);
    ASSERT_EQ(p.size(), 10u);
    EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
    for (double x : p) EXPECT_GE(x, 0.0);
  }
}

TEST(RngTest, UniformIntCoversRangeWithoutBias) {
  Rng rng(1);
  std::vector<int> hits(6, 0);
  for (int i = 0; i < 60000; ++i) ++hits[rng.uniform_int(6)];
  for (int h : hits) EXPECT_NEAR(h, 10000, 400);
}

}  // namespace
}  // namespace flotilla
