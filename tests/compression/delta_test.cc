// compute_delta and apply_delta: element-wise in the tensor's dtype, counters taken as they are.
#include "compression/delta.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

TEST(DeltaTest, SubtractsAndAddsFloatingTensorsInTheirDtype) {
  const ModelState global = testing::mixed_update(1);
  const ModelState trained = testing::mixed_update(2);
  const ModelState delta = compute_delta(trained, global).value();
  ASSERT_TRUE(global.check_same_layout(delta).ok());
  const at::Tensor& t = *trained.find("conv.weight");
  const at::Tensor& g = *global.find("conv.weight");
  EXPECT_TRUE(at::equal(*delta.find("conv.weight"), t - g));
  EXPECT_EQ(delta.find("half.weight")->scalar_type(), at::kHalf);
  // Counters and masks are the trained values, not differences.
  EXPECT_TRUE(at::equal(*delta.find("bn.num_batches_tracked"), *trained.find("bn.num_batches_tracked")));
  EXPECT_TRUE(at::equal(*delta.find("mask"), *trained.find("mask")));

  const ModelState back = apply_delta(global, delta).value();
  ASSERT_TRUE(global.check_same_layout(back).ok());
  EXPECT_TRUE(at::equal(*back.find("conv.weight"), g + (t - g)));
  // g + (t - g) is t up to one float32 rounding per element.
  EXPECT_TRUE(at::allclose(*back.find("conv.weight"), t, 0, 1e-6));
  EXPECT_TRUE(at::equal(*back.find("bn.num_batches_tracked"), *trained.find("bn.num_batches_tracked")));
}

TEST(DeltaTest, IsDeterministic) {
  const ModelState global = testing::mnist_cnn_update(1, 0.1);
  const ModelState trained = testing::mnist_cnn_update(2, 0.1);
  EXPECT_TRUE(testing::identical(compute_delta(trained, global).value(), compute_delta(trained, global).value()));
}

TEST(DeltaTest, RefusesAnotherLayout) {
  ModelState a, b;
  a.add("w", at::zeros({2, 3}));
  b.add("w", at::zeros({3, 2}));
  auto delta = compute_delta(a, b);
  ASSERT_FALSE(delta.ok());
  EXPECT_NE(delta.status().message().find("computing an update: tensor 'w' has shape [2,3], expected [3,2]"),
            std::string::npos)
      << delta.status();
  EXPECT_FALSE(apply_delta(a, b).ok());
}

}  // namespace
}  // namespace flotilla
