#include "secagg/fixed_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace flotilla::secagg {
namespace {

TEST(FixedPointTest, SumsDecodeWithinTheStatedErrorAndCannotWrap) {
  const int clients = 1000;
  const double bound = 5000.0;  // e.g. a clipped update times a sample count
  auto fp = FixedPoint::for_sum(clients, bound);
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  // The range guarantee: clients * bound * 2^f < 2^62.
  EXPECT_LT(clients * bound * std::ldexp(1.0, fp->fraction_bits()), std::ldexp(1.0, 62));
  EXPECT_GE(clients * bound * std::ldexp(1.0, fp->fraction_bits() + 1), std::ldexp(1.0, 62));
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> value(-bound, bound);
  std::vector<uint64_t> sum(64, 0);
  std::vector<double> exact(64, 0.0);
  for (int c = 0; c < clients; ++c) {
    std::vector<double> v(64);
    for (double& x : v) x = value(gen);
    v[0] = c % 2 ? bound : -bound;  // the extremes too
    auto encoded = fp->encode(v);
    ASSERT_TRUE(encoded.ok());
    for (size_t i = 0; i < v.size(); ++i) {
      sum[i] += (*encoded)[i];
      exact[i] += v[i];
    }
  }
  const std::vector<double> decoded = fp->decode(sum);
  for (size_t i = 0; i < decoded.size(); ++i)
    EXPECT_LE(std::abs(decoded[i] - exact[i]), fp->max_sum_error(clients) + 1e-9 * std::abs(exact[i])) << i;
}

TEST(FixedPointTest, ValuesOutsideTheRangeAreRefused) {
  auto fp = FixedPoint::for_sum(10, 1.0);
  ASSERT_TRUE(fp.ok());
  for (double bad : {1.5, -1.01, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto encoded = fp->encode(std::vector<double>{0.0, bad});
    ASSERT_FALSE(encoded.ok()) << bad;
    EXPECT_NE(encoded.status().message().find("element 1"), std::string::npos) << encoded.status().message();
  }
  EXPECT_FALSE(FixedPoint::for_sum(1 << 30, 1e12).ok());  // no fraction bits left
  EXPECT_FALSE(FixedPoint::for_sum(0, 1.0).ok());
}

}  // namespace
}  // namespace flotilla::secagg
