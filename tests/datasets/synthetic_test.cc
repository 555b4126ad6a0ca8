#include "datasets/synthetic.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace flotilla {
namespace {

TEST(SyntheticTest, DeterministicBalancedAndShaped) {
  SyntheticSpec spec;
  spec.train_size = 100;
  spec.test_size = 40;
  const auto a = make_synthetic(spec), b = make_synthetic(spec);
  EXPECT_TRUE(at::equal(a.train.images, b.train.images));
  EXPECT_TRUE(at::equal(a.test.labels, b.test.labels));
  EXPECT_EQ(a.train.images.sizes(), (at::IntArrayRef{100, 1, 12, 12}));
  EXPECT_TRUE(at::equal(at::bincount(a.train.labels), at::full({10}, 10, at::kLong)));
  spec.seed = 99;
  EXPECT_FALSE(at::equal(make_synthetic(spec).train.images, a.train.images));
}

TEST(SyntheticTest, NearestPrototypeBeatsChance) {
  // Class means of the training set classify the test set far above 10%: the data is learnable.
  const auto s = make_synthetic();
  at::Tensor means = at::zeros({10, 144});
  for (int c = 0; c < 10; ++c) means[c] = s.train.images.flatten(1).index({s.train.labels.eq(c)}).mean(0);
  const at::Tensor predicted = at::cdist(s.test.images.flatten(1), means).argmin(1);
  const double accuracy = predicted.eq(s.test.labels).to(at::kDouble).mean().item<double>();
  EXPECT_GT(accuracy, 0.5);
}

}  // namespace
}  // namespace flotilla
