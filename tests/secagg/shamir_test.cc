#include "secagg/shamir.h"

#include <gtest/gtest.h>

namespace flotilla::secagg {
namespace {

TEST(ShamirTest, AnyThresholdSharesReconstruct) {
  auto secret = random_bytes(32);
  ASSERT_TRUE(secret.ok());
  const int n = 6, t = 3;
  auto shares = split_secret(*secret, t, n);
  ASSERT_TRUE(shares.ok());
  // Every subset of t shares, in every order the loop gives.
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b)
      for (int c = b + 1; c < n; ++c) {
        std::vector<Share> subset = {(*shares)[c], (*shares)[a], (*shares)[b]};
        auto back = reconstruct_secret(subset, t, secret->size());
        ASSERT_TRUE(back.ok()) << back.status().message();
        EXPECT_EQ(*back, *secret);
      }
  // More than t: the first t are used.
  EXPECT_EQ(*reconstruct_secret(*shares, t, secret->size()), *secret);
}

TEST(ShamirTest, FewerThanThresholdSharesGiveNothing) {
  auto secret = random_bytes(32);
  auto shares = split_secret(*secret, 4, 7);
  ASSERT_TRUE(shares.ok());
  const std::vector<Share> three(shares->begin(), shares->begin() + 3);
  EXPECT_FALSE(reconstruct_secret(three, 4, 32).ok());  // too few to even try
  // Treating t - 1 shares as if the threshold were t - 1 interpolates the wrong polynomial.
  auto wrong = reconstruct_secret(three, 3, 32);
  EXPECT_TRUE(!wrong.ok() || *wrong != *secret);
}

TEST(ShamirTest, BadSharesAreRefused) {
  auto shares = split_secret(Bytes(32, 9), 2, 3);
  ASSERT_TRUE(shares.ok());
  std::vector<Share> twice = {(*shares)[0], (*shares)[0]};
  EXPECT_FALSE(reconstruct_secret(twice, 2, 32).ok());
  std::vector<Share> short_one = {(*shares)[0], (*shares)[1]};
  short_one[1].values.pop_back();
  EXPECT_FALSE(reconstruct_secret(short_one, 2, 32).ok());
  EXPECT_FALSE(split_secret(Bytes(32, 9), 4, 3).ok());
  EXPECT_FALSE(split_secret(Bytes(32, 9), 0, 3).ok());
}

TEST(ShamirTest, SharesSerialiseAndBack) {
  auto shares = split_secret(Bytes(32, 5), 2, 3);
  const Bytes bytes = serialise((*shares)[1]);
  auto back = deserialise_share(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->x, (*shares)[1].x);
  EXPECT_EQ(back->values, (*shares)[1].values);
  EXPECT_FALSE(deserialise_share(Bytes(bytes.begin(), bytes.end() - 1)).ok());
  Bytes not_field = bytes;
  for (int i = 8; i < 16; ++i) not_field[static_cast<size_t>(i)] = 0xff;
  EXPECT_FALSE(deserialise_share(not_field).ok());
}

}  // namespace
}  // namespace flotilla::secagg
