#include "coordinator/divergence.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace flotilla {
namespace {

ModelState state(std::vector<float> w, int64_t counter = 0) {
  ModelState s;
  s.add("w", at::tensor(w));
  s.add("num_batches_tracked", at::tensor(counter));  // ignored: not floating point
  return s;
}

TEST(DivergenceTest, MatchesHandComputedValues) {
  // prev = (3, 4): |prev| = 5. client = (3, 7): u_k = (0, 3). new = (6, 4): u = (3, 0), |new| = sqrt(52).
  const Divergence d = client_divergence(state({3, 7}, 5), state({3, 4}, 1), state({6, 4}, 9));
  EXPECT_DOUBLE_EQ(d.to_previous, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(d.to_new, std::sqrt(9.0 + 9.0) / std::sqrt(52.0));
  EXPECT_DOUBLE_EQ(d.cosine, 0.0);  // orthogonal updates
}

TEST(DivergenceTest, AlignedUpdateHasCosineOne) {
  const Divergence d = client_divergence(state({2, 2}), state({1, 1}), state({1.5f, 1.5f}));
  EXPECT_NEAR(d.cosine, 1.0, 1e-12);
  EXPECT_NEAR(d.to_new, std::sqrt(0.5) / std::sqrt(4.5), 1e-7);
}

TEST(DivergenceTest, ZeroUpdateGivesNaNCosine) {
  const Divergence d = client_divergence(state({1, 1}), state({1, 1}), state({2, 2}));
  EXPECT_EQ(d.to_previous, 0.0);
  EXPECT_TRUE(std::isnan(d.cosine));
}

}  // namespace
}  // namespace flotilla
