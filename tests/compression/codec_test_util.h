// Model states and helpers shared by the compression tests.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "compression/codec_spec.h"
#include "core/model_state.h"

namespace flotilla::testing {

// A state of one tensor, "w".
inline ModelState one_tensor(at::Tensor t) {
  ModelState s;
  s.add("w", std::move(t));
  return s;
}

// `status` is InvalidArgument and its message mentions `needle`.
inline void expect_invalid_argument(const Status& status, const std::string& needle) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(needle), std::string::npos) << status;
}

// The FedAvg paper's MNIST CNN (McMahan et al. 2017): 1,663,370 float32 parameters, 6.65 MB.
// Values are normal with standard deviation `scale` (an update's magnitude).
inline ModelState mnist_cnn_update(uint64_t seed, double scale = 1e-3) {
  at::manual_seed(seed);
  ModelState s;
  s.add("conv1.weight", at::randn({32, 1, 5, 5}) * scale);
  s.add("conv1.bias", at::randn({32}) * scale);
  s.add("conv2.weight", at::randn({64, 32, 5, 5}) * scale);
  s.add("conv2.bias", at::randn({64}) * scale);
  s.add("fc1.weight", at::randn({512, 3136}) * scale);
  s.add("fc1.bias", at::randn({512}) * scale);
  s.add("fc2.weight", at::randn({10, 512}) * scale);
  s.add("fc2.bias", at::randn({10}) * scale);
  return s;
}

// A small update with every kind of tensor a model has: float32 parameters, a float64 and a float16
// tensor, a float32 scalar, BatchNorm's int64 counter, a bool mask and an empty tensor.
inline ModelState mixed_update(uint64_t seed) {
  at::manual_seed(seed);
  ModelState s;
  s.add("conv.weight", at::randn({8, 3, 3, 3}));
  s.add("conv.bias", at::randn({8}));
  s.add("bn.running_mean", at::randn({8}, at::kDouble));
  s.add("bn.num_batches_tracked", at::full({}, 42, at::kLong));
  s.add("half.weight", at::randn({5, 7}).to(at::kHalf));
  s.add("mask", at::rand({6}) > 0.5);
  s.add("temperature", at::randn({}));
  s.add("empty.weight", at::zeros({0, 4}));
  s.add("fc.weight", at::randn({10, 100}));
  return s;
}

inline std::unique_ptr<UpdateCodec> codec(const std::string& spec_text) {
  auto spec = parse_codec_spec(spec_text);
  FLOTILLA_CHECK(spec.ok()) << spec.status();
  auto made = make_codec(*spec);
  FLOTILLA_CHECK(made.ok()) << made.status();
  return std::move(made).value();
}

// Bitwise equality of names, dtypes, shapes and values.
inline bool identical(const ModelState& a, const ModelState& b) {
  if (!a.check_same_layout(b).ok()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!at::equal(a[i].tensor, b[i].tensor)) return false;
  return true;
}

}  // namespace flotilla::testing
