#include "training/augment.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "core/experiment.h"

namespace flotilla {
namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Distinct values everywhere, so any misplaced pixel shows.
at::Tensor numbered_batch(int64_t b, int64_t c, int64_t h, int64_t w) {
  return at::arange(b * c * h * w, at::kFloat).add_(1).view({b, c, h, w});
}

// The index a reflected border reads from: -1 -> 1, n -> n - 2 (the edge pixel is not repeated).
int64_t reflect(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

// The H x W window of sample `s` padded with zeros (or by reflection) at offset (oy, ox), computed
// by explicit loops.
at::Tensor window(const at::Tensor& sample, int64_t pad, int64_t oy, int64_t ox, bool reflected = false) {
  const int64_t c = sample.size(0), h = sample.size(1), w = sample.size(2);
  at::Tensor out = at::zeros({c, h, w});
  auto in_a = sample.accessor<float, 3>();
  auto out_a = out.accessor<float, 3>();
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        int64_t si = oy + i - pad, sj = ox + j - pad;  // source pixel in unpadded coordinates
        if (reflected) {
          si = reflect(si, h);
          sj = reflect(sj, w);
        }
        if (si >= 0 && si < h && sj >= 0 && sj < w) out_a[k][i][j] = in_a[k][si][sj];
      }
  return out;
}

// The offset (oy, ox) whose window equals out_sample, or (-1, -1) when none does. Unique for
// numbered inputs, whose values are all distinct and nonzero.
std::pair<int64_t, int64_t> matching_offset(const at::Tensor& in_sample, const at::Tensor& out_sample, int64_t pad,
                                            bool reflected = false) {
  for (int64_t oy = 0; oy <= 2 * pad; ++oy)
    for (int64_t ox = 0; ox <= 2 * pad; ++ox)
      if (at::equal(window(in_sample, pad, oy, ox, reflected), out_sample)) return {oy, ox};
  return {-1, -1};
}

TEST(AugmentTest, FlipMirrorsExactlyTheSamplesItFlips) {
  // Sample b is the 1x2x3 image [[1 2 3] [4 5 6]] + 10 b; its mirror, written out, is
  // [[3 2 1] [6 5 4]] + 10 b.
  const int64_t n = 64;
  const at::Tensor offset = at::arange(n, at::kFloat).mul_(10).view({n, 1, 1, 1});
  const at::Tensor x = at::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({1, 1, 2, 3}) + offset;
  const at::Tensor mirror = at::tensor({3.f, 2.f, 1.f, 6.f, 5.f, 4.f}).view({1, 1, 2, 3}) + offset;
  auto gen = seeded(1);
  const at::Tensor out = random_horizontal_flip(x, gen);
  ASSERT_EQ(out.sizes(), x.sizes());
  int flipped = 0;
  for (int64_t b = 0; b < n; ++b) {
    const bool kept = at::equal(out[b], x[b]);
    const bool mirrored = at::equal(out[b], mirror[b]);
    EXPECT_TRUE(kept != mirrored) << "sample " << b << " is neither kept nor exactly mirrored";
    flipped += mirrored ? 1 : 0;
  }
  // 64 fair coins: all heads or all tails has probability 2^-63.
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, n);
}

TEST(AugmentTest, CropIsAShiftedWindowOfTheZeroPaddedInput) {
  const int64_t pad = 2;
  const at::Tensor x = numbered_batch(40, 3, 6, 7);
  auto gen = seeded(5);
  const at::Tensor out = random_crop(x, pad, gen);
  ASSERT_EQ(out.sizes(), x.sizes());
  EXPECT_EQ(out.scalar_type(), x.scalar_type());
  std::set<int64_t> rows, cols;
  for (int64_t b = 0; b < x.size(0); ++b) {
    auto [oy, ox] = matching_offset(x[b], out[b], pad);
    ASSERT_GE(oy, 0) << "sample " << b << " is no window of its padded input";
    rows.insert(oy);
    cols.insert(ox);
  }
  // 40 draws of 5 values each: a single value throughout has probability 5 * 5^-40.
  EXPECT_GT(rows.size(), 1u);
  EXPECT_GT(cols.size(), 1u);
}

TEST(AugmentTest, ReflectionCropIsAShiftedWindowOfTheMirroredInput) {
  const int64_t pad = 2;
  const at::Tensor x = numbered_batch(40, 3, 6, 7);
  auto gen = seeded(6);
  const at::Tensor out = random_crop(x, pad, gen, CropPadding::kReflect);
  ASSERT_EQ(out.sizes(), x.sizes());
  std::set<int64_t> rows;
  for (int64_t b = 0; b < x.size(0); ++b) {
    auto [oy, ox] = matching_offset(x[b], out[b], pad, /*reflected=*/true);
    ASSERT_GE(oy, 0) << "sample " << b << " is no window of its mirrored input";
    rows.insert(oy);
  }
  EXPECT_GT(rows.size(), 1u);
  EXPECT_EQ(out.eq(0).sum().item<int64_t>(), 0);  // no zero border: every pixel is one of the image's
  // Through augment_batch by name, the same draws as random_crop then a flip.
  auto a = seeded(8), b = seeded(8);
  EXPECT_TRUE(at::equal(augment_batch(x, kAugmentCropFlipReflect, a),
                        random_horizontal_flip(random_crop(x, kCropPadding, b, CropPadding::kReflect), b)));
}

TEST(AugmentTest, CropWithoutPaddingIsTheIdentity) {
  const at::Tensor x = numbered_batch(4, 1, 5, 5);
  auto gen = seeded(0);
  EXPECT_TRUE(at::equal(random_crop(x, 0, gen), x));
}

TEST(AugmentTest, CropFlipKeepsShapeAndIsAFlippedWindow) {
  const at::Tensor x = numbered_batch(16, 3, 32, 32);
  auto gen = seeded(9);
  const at::Tensor out = augment_batch(x, kAugmentCropFlip, gen);
  ASSERT_EQ(out.sizes(), x.sizes());
  for (int64_t b = 0; b < x.size(0); ++b) {
    const bool plain = matching_offset(x[b], out[b], kCropPadding).first >= 0;
    const bool flipped = matching_offset(x[b], out[b].flip({2}), kCropPadding).first >= 0;
    EXPECT_TRUE(plain || flipped) << "sample " << b;
  }
}

TEST(AugmentTest, SameSeedSameBatchOtherSeedOtherBatch) {
  const at::Tensor x = at::randn({32, 3, 32, 32});
  auto a = seeded(42), b = seeded(42), c = seeded(43);
  const at::Tensor out_a = augment_batch(x, kAugmentCropFlip, a);
  EXPECT_TRUE(at::equal(out_a, augment_batch(x, kAugmentCropFlip, b)));
  EXPECT_FALSE(at::equal(out_a, augment_batch(x, kAugmentCropFlip, c)));
  // The generator advances: the next batch from the same stream is augmented differently.
  EXPECT_FALSE(at::equal(out_a, augment_batch(x, kAugmentCropFlip, a)));
}

TEST(AugmentTest, NoneIsTheIdentityAndDrawsNothing) {
  const at::Tensor x = at::randn({8, 1, 28, 28});
  auto gen = seeded(7), untouched = seeded(7);
  const at::Tensor out = augment_batch(x, kAugmentNone, gen);
  EXPECT_TRUE(out.is_same(x));
  EXPECT_TRUE(at::equal(at::randint(0, 1 << 30, {4}, gen), at::randint(0, 1 << 30, {4}, untouched)));
}

TEST(AugmentTest, InputIsNotModified) {
  const at::Tensor x = at::randn({8, 3, 12, 12});
  const at::Tensor copy = x.clone();
  auto gen = seeded(3);
  (void)augment_batch(x, kAugmentCropFlip, gen);
  EXPECT_TRUE(at::equal(x, copy));
}

TEST(AugmentTest, EmptyBatchStaysEmpty) {
  const at::Tensor x = at::zeros({0, 3, 32, 32});
  auto gen = seeded(3);
  EXPECT_EQ(augment_batch(x, kAugmentCropFlip, gen).sizes(), x.sizes());
}

TEST(AugmentTest, CudaGivesTheSameBatchAsCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA in this LibTorch build or machine";
  const at::Tensor x = at::randn({16, 3, 32, 32});
  auto cpu_gen = seeded(11), cuda_gen = seeded(11);
  const at::Tensor on_cpu = augment_batch(x, kAugmentCropFlip, cpu_gen);
  const at::Tensor on_cuda = augment_batch(x.to(at::kCUDA), kAugmentCropFlip, cuda_gen);
  EXPECT_TRUE(on_cuda.is_cuda());
  EXPECT_TRUE(at::equal(on_cuda.cpu(), on_cpu));
}

}  // namespace
}  // namespace flotilla
