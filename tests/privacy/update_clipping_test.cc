#include "privacy/update_clipping.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "privacy/gaussian_noise.h"

namespace flotilla {
namespace {

ModelState two_tensors(double a, double b, int64_t counter) {
  ModelState s;
  s.add("w", at::full({4}, a, at::kFloat));
  s.add("b", at::full({1}, b, at::kFloat));
  s.add("count", at::full({}, counter, at::kLong));
  return s;
}

TEST(UpdateClippingTest, NormCountsFloatingTensorsOnly) {
  // 4 * 3^2 + 4^2 = 52
  EXPECT_NEAR(update_l2_norm(two_tensors(3, 4, 1000)), std::sqrt(52.0), 1e-6);
}

TEST(UpdateClippingTest, ClipsOnlyWhatIsOverTheNorm) {
  ModelState small = two_tensors(0.1, 0.1, 0);
  const double before = update_l2_norm(small);
  EXPECT_NEAR(clip_update(small, 1.0), before, 1e-9);
  EXPECT_NEAR(update_l2_norm(small), before, 1e-7);  // untouched

  ModelState big = two_tensors(3, 4, 7);
  EXPECT_NEAR(clip_update(big, 2.0), std::sqrt(52.0), 1e-6);
  EXPECT_NEAR(update_l2_norm(big), 2.0, 1e-6);
  // The direction is kept: every element scaled by the same factor.
  EXPECT_NEAR(big[0].tensor[0].item<double>() / big[1].tensor[0].item<double>(), 0.75, 1e-6);
  EXPECT_EQ(big[2].tensor.item<int64_t>(), 7);  // counters are not scaled
}

TEST(UpdateClippingTest, PrivatisedUpdateIsGlobalPlusClippedDelta) {
  const ModelState global = two_tensors(1, 1, 5);
  const ModelState trained = two_tensors(4, 5, 9);  // delta (3, 4): norm sqrt(52)
  auto out = privatise_update(global, trained, 1.0, 0.0, 0);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE(out->within_clip_norm);
  EXPECT_NEAR(out->norm, std::sqrt(52.0), 1e-6);
  const double scale = 1.0 / std::sqrt(52.0);
  EXPECT_NEAR(out->state[0].tensor[0].item<double>(), 1 + 3 * scale, 1e-6);
  EXPECT_NEAR(out->state[1].tensor[0].item<double>(), 1 + 4 * scale, 1e-6);
  EXPECT_EQ(out->state[2].tensor.item<int64_t>(), 5);  // the global counter, not the client's

  auto within = privatise_update(global, two_tensors(1.1, 1.1, 9), 1.0, 0.0, 0);
  ASSERT_TRUE(within.ok());
  EXPECT_TRUE(within->within_clip_norm);
}

TEST(UpdateClippingTest, LocalNoiseHasTheAskedStandardDeviation) {
  ModelState global;
  global.add("w", at::zeros({200000}, at::kFloat));
  ModelState trained;
  trained.add("w", at::zeros({200000}, at::kFloat));
  auto out = privatise_update(global, trained, 1.0, 0.5, 1234);
  ASSERT_TRUE(out.ok());
  const at::Tensor w = out->state[0].tensor.to(at::kDouble);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(w.std().item<double>(), 0.5, 0.01);
  // A different seed, different noise; the same seed, the same noise.
  auto again = privatise_update(global, trained, 1.0, 0.5, 1234);
  auto other = privatise_update(global, trained, 1.0, 0.5, 4321);
  EXPECT_TRUE(at::equal(again->state[0].tensor, out->state[0].tensor));
  EXPECT_FALSE(at::equal(other->state[0].tensor, out->state[0].tensor));
}

TEST(UpdateClippingTest, SecretSeedsDiffer) {
  auto a = secret_seed();
  auto b = secret_seed();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);  // 2^-64 to fail
}

}  // namespace
}  // namespace flotilla
