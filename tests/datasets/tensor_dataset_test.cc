#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "datasets/dataset.h"

namespace flotilla {
namespace {

// Two RGB 2x2 images with every byte distinct, and CIFAR-like statistics.
TensorDataset raw_rgb() {
  TensorDataset d;
  d.images = at::arange(2 * 3 * 2 * 2, at::kByte).mul_(10).view({2, 3, 2, 2});
  d.labels = at::tensor({0, 1}, at::kLong);
  d.mean = {0.4914, 0.4822, 0.4465};
  d.std = {0.2470, 0.2435, 0.2616};
  return d;
}

TEST(TensorDatasetTest, NormalizeUsesEachChannelsStatistics) {
  const TensorDataset d = raw_rgb();
  const at::Tensor x = d.normalize(d.images);
  ASSERT_EQ(x.scalar_type(), at::kFloat);
  ASSERT_EQ(x.sizes(), d.images.sizes());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 4; ++i) {
        const double byte = d.images[n][c].flatten()[i].item<uint8_t>();
        EXPECT_NEAR(x[n][c].flatten()[i].item<float>(), (byte / 255.0 - d.mean[c]) / d.std[c], 1e-5)
            << "sample " << n << " channel " << c;
      }
}

TEST(TensorDatasetTest, BatchesNormaliseExactlyAsTheWholeSetAndSelectKeepsStatistics) {
  const TensorDataset d = raw_rgb();
  const at::Tensor whole = d.normalize(d.images);
  const TensorDataset second = d.select(at::tensor({1}, at::kLong));
  EXPECT_EQ(second.mean, d.mean);
  EXPECT_EQ(second.std, d.std);
  EXPECT_TRUE(at::equal(second.normalize(second.images), whole.narrow(0, 1, 1)));
}

TEST(TensorDatasetTest, FloatImagesPassThrough) {
  TensorDataset d;
  d.images = at::randn({3, 1, 4, 4});
  d.labels = at::zeros({3}, at::kLong);
  EXPECT_TRUE(d.normalize(d.images).is_same(d.images));
}

TEST(TensorDatasetTest, ByteImagesWithoutStatisticsAreABug) {
  TensorDataset d = raw_rgb();
  d.mean = {0.5};  // one mean for three channels
  EXPECT_DEATH((void)d.normalize(d.images), "one mean and std per channel");
}

}  // namespace
}  // namespace flotilla
