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

// The formula normalize used before it took tabular data, op for op: uint8 images must still give
// exactly these bits (models trained before keep their accuracy to the last digit).
at::Tensor old_normalize(const TensorDataset& d, const at::Tensor& rows) {
  at::Tensor x = rows.to(at::kFloat).div_(255.0);
  for (int64_t c = 0; c < rows.size(1); ++c) {
    const auto i = static_cast<size_t>(c);
    x.select(1, c).sub_(static_cast<float>(d.mean[i])).div_(static_cast<float>(d.std[i]));
  }
  return x;
}

TEST(TensorDatasetTest, ByteImagesAreBitIdenticalToTheOldFormula) {
  TensorDataset d = raw_rgb();
  d.images = at::randint(0, 256, {8, 3, 5, 5}, at::kLong).to(at::kByte);
  EXPECT_TRUE(at::equal(d.normalize(d.images), old_normalize(d, d.images)));
  d.mean = {0.1307};
  d.std = {0.3081};
  d.images = at::randint(0, 256, {8, 1, 28, 28}, at::kLong).to(at::kByte);
  EXPECT_TRUE(at::equal(d.normalize(d.images), old_normalize(d, d.images)));
}

TEST(TensorDatasetTest, ByteRowsWithoutStatisticsAreScaledOnly) {
  TensorDataset d;
  d.images = at::arange(12, at::kLong).mul_(20).to(at::kByte).view({3, 4});
  d.labels = at::zeros({3}, at::kLong);
  const at::Tensor x = d.normalize(d.images);
  EXPECT_EQ(x.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(x, d.images.to(at::kFloat).div_(255.0)));
}

TEST(TensorDatasetTest, TabularFloatRowsUseEachFeaturesStatistics) {
  // 3 features (channel by channel) and 40 (the many-channel path) give the same formula.
  for (const int64_t features : {3, 40}) {
    SCOPED_TRACE(features);
    TensorDataset d;
    d.images = at::randn({5, features}).mul_(3).add_(1);
    d.labels = at::zeros({5}, at::kLong);
    const at::Tensor before = d.images.clone();
    for (int64_t f = 0; f < features; ++f) {
      d.mean.push_back(0.5 * static_cast<double>(f));
      d.std.push_back(1.0 + static_cast<double>(f));
    }
    const at::Tensor x = d.normalize(d.images);
    EXPECT_TRUE(at::equal(d.images, before)) << "the dataset's own rows must not change";
    const at::Tensor expected =
        (before - at::tensor(d.mean, at::kDouble).to(at::kFloat)) / at::tensor(d.std, at::kDouble).to(at::kFloat);
    EXPECT_TRUE(at::allclose(x, expected, 1e-6, 1e-6));
    EXPECT_EQ(d.select(at::tensor({1}, at::kLong)).normalize(d.images.narrow(0, 1, 1)).sizes(),
              (at::IntArrayRef{1, features}));
  }
}

TEST(TensorDatasetTest, FloatImagesWithStatisticsAreNormalised) {
  TensorDataset d;
  d.images = at::rand({2, 2, 3, 3});
  d.labels = at::zeros({2}, at::kLong);
  d.mean = {0.5, 0.25};
  d.std = {2.0, 4.0};
  const at::Tensor x = d.normalize(d.images);
  EXPECT_TRUE(at::allclose(x.select(1, 1), (d.images.select(1, 1) - 0.25) / 4.0));
  d.mean = {0.5};
  d.std = {2.0};
  EXPECT_DEATH((void)d.normalize(d.images), "one mean and std per channel");
}

}  // namespace
}  // namespace flotilla
