// max_pool2x2 against at::max_pool2d(x, 2): the same output and the same input gradient, bit for
// bit, on inputs made to tie (ReLU zeros, a few integer levels), with -inf and NaN, odd sizes and
// layouts other than contiguous NCHW.
#include "models/max_pool.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstring>
#include <limits>

namespace flotilla {
namespace {

bool same_bits(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const at::Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.numel() * x.element_size()) == 0;
}

struct Pooled {
  at::Tensor out, grad;
};

// Pools `input` with `pool`, then back-propagates a fixed random output gradient.
template <class Pool>
Pooled pool_and_backward(const at::Tensor& input, Pool pool, const at::Tensor& grad_out) {
  at::Tensor x = input.detach().clone(at::MemoryFormat::Preserve).requires_grad_(true);
  at::Tensor out = pool(x);
  out.backward(grad_out);
  return {out.detach(), x.grad()};
}

void expect_same_as_aten(const at::Tensor& input, const char* what) {
  const auto aten_pool = [](const at::Tensor& x) { return at::max_pool2d(x, {2, 2}, {2, 2}); };
  at::Tensor grad_out = at::randn(aten_pool(input).sizes(), at::TensorOptions().dtype(at::kFloat));
  // Some -0 gradients: ATen adds them onto zeros (giving +0), and so must the kernel.
  grad_out.view(-1).slice(0, 0, grad_out.numel(), 5).fill_(-0.0f);
  const Pooled want = pool_and_backward(input, aten_pool, grad_out);
  const Pooled got = pool_and_backward(input, max_pool2x2, grad_out);
  EXPECT_TRUE(same_bits(got.out, want.out)) << what << ": outputs differ";
  EXPECT_TRUE(same_bits(got.grad, want.grad)) << what << ": input gradients differ";
  at::NoGradGuard no_grad;
  EXPECT_TRUE(same_bits(max_pool2x2(input), want.out)) << what << ": the no-grad path differs";
}

TEST(MaxPool2x2Test, MatchesAtenOnContinuousValues) {
  at::manual_seed(1);
  expect_same_as_aten(at::randn({4, 3, 12, 10}), "even sizes");
  expect_same_as_aten(at::randn({2, 5, 9, 7}), "odd sizes (last row and column dropped)");
  expect_same_as_aten(at::randn({1, 1, 2, 2}), "one window");
  expect_same_as_aten(at::randn({64, 20, 24, 24}), "a batch large enough to split across threads");
}

TEST(MaxPool2x2Test, TiesPickTheElementAtenPicks) {
  at::manual_seed(2);
  // After a ReLU most windows hold several zeros; with three levels most windows tie.
  expect_same_as_aten(at::relu(at::randn({8, 6, 10, 10})), "ReLU zeros");
  expect_same_as_aten(at::randint(0, 3, {8, 6, 10, 10}).to(at::kFloat), "three levels");
  expect_same_as_aten(at::zeros({2, 2, 4, 4}), "all equal");
  at::Tensor signed_zeros = at::zeros({2, 2, 4, 4});
  signed_zeros.view(-1).slice(0, 0, 32, 3).fill_(-0.0f);
  expect_same_as_aten(signed_zeros, "+0 and -0");
}

TEST(MaxPool2x2Test, InfinitiesAndNaNsPickTheElementAtenPicks) {
  at::manual_seed(3);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  at::Tensor x = at::randn({3, 4, 8, 8});
  at::Tensor flat = x.view(-1);
  flat.slice(0, 0, flat.numel(), 7).fill_(-inf);
  flat.slice(0, 1, flat.numel(), 11).fill_(inf);
  flat.slice(0, 2, flat.numel(), 13).fill_(nan);
  expect_same_as_aten(x, "mixed -inf, inf, NaN");
  expect_same_as_aten(at::full({1, 2, 4, 4}, -inf), "all -inf");
  expect_same_as_aten(at::full({1, 2, 4, 4}, nan), "all NaN");
}

TEST(MaxPool2x2Test, OtherLayoutsAndTypes) {
  at::manual_seed(4);
  expect_same_as_aten(at::randn({4, 6, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast), "channels last");
  expect_same_as_aten(at::randn({4, 6, 8, 10}).transpose(2, 3), "a transposed view");
  expect_same_as_aten(at::randn({4, 6, 8, 8}, at::kDouble), "float64 (ATen's kernel)");
  expect_same_as_aten(at::randn({6, 8, 8}), "an unbatched image (ATen's kernel)");
  EXPECT_THROW(max_pool2x2(at::randn({1, 1, 1, 4})), c10::Error) << "smaller than one window";
}

TEST(MaxPool2x2Test, NoGraphWithoutGradAndNoSecondDerivative) {
  at::manual_seed(5);
  EXPECT_FALSE(max_pool2x2(at::randn({2, 2, 4, 4})).requires_grad());
  at::Tensor x = at::randn({2, 2, 4, 4}).requires_grad_(true);
  at::Tensor y = max_pool2x2(x).pow(2).sum();
  EXPECT_THROW(torch::autograd::grad({y}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true), c10::Error);
}

}  // namespace
}  // namespace flotilla
