// "qsgd": unbiased, at most one quantisation step of error, deterministic by seed, and its payload
// checked level by level and scale by scale.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

using testing::expect_invalid_argument;
using testing::one_tensor;

using testing::codec;
using testing::identical;

// The step m / s of every element's bucket, from the payload's scales.
at::Tensor steps(const ModelState& payload, int64_t n, int64_t bucket, int levels) {
  return payload.find("w#scale")->to(at::kDouble).repeat_interleave(bucket).slice(0, 0, n) / levels;
}

TEST(QsgdCodecTest, MeanOverSeedsApproachesTheUpdate) {
  // Few levels make the step large (m / 4), so a bias of even 5% of a step would show. Each decoded
  // element lies in an interval of one step around x; by Hoeffding, the mean of R independent draws
  // is within step * sqrt(ln(2 N / delta) / (2 R)) of its expectation for all N elements with
  // probability 1 - delta. With N = 64, R = 4000, delta = 1e-6: 0.048 steps.
  const int64_t n = 64, bucket = 16, rounds = 4000;
  const int levels = 4;
  at::manual_seed(5);
  const ModelState delta = one_tensor(at::randn({n}));
  auto q = codec("qsgd:levels=4,bucket=16");
  at::Tensor sum = at::zeros({n}, at::kDouble);
  at::Tensor step;
  for (int64_t seed = 0; seed < rounds; ++seed) {
    const ModelState payload = q->encode(delta, static_cast<uint64_t>(seed)).value();
    if (seed == 0) step = steps(payload, n, bucket, levels);
    sum += q->decode(payload, delta).value()[0].tensor.to(at::kDouble);
  }
  const at::Tensor error = (sum / rounds - delta[0].tensor.to(at::kDouble)).abs();
  const double bound = std::sqrt(std::log(2.0 * n / 1e-6) / (2.0 * rounds));
  EXPECT_TRUE((error <= step * bound).all().item<bool>())
      << "largest error " << (error / step).max().item<double>() << " steps, bound " << bound;
}

TEST(QsgdCodecTest, ErrorIsAtMostOneStepAndLevelsAreNeighbours) {
  at::manual_seed(6);
  struct Case {
    const char* spec;
    int64_t bucket;
    int levels;
  };
  for (const auto& [spec, bucket, levels] :
       {Case{"qsgd", 1024, 127}, Case{"qsgd:norm=l2", 1024, 127}, Case{"qsgd:levels=1,bucket=7", 7, 1}}) {
    auto q = codec(spec);
    const at::Tensor x = at::randn({10000}) * 1e-3;
    const ModelState payload = q->encode(one_tensor(x), 9).value();
    const at::Tensor step = steps(payload, x.numel(), bucket, levels);
    const at::Tensor decoded = q->decode(payload, one_tensor(x)).value()[0].tensor.to(at::kDouble);
    // One step, plus the float32 rounding of the decoded value.
    const at::Tensor error = (decoded - x.to(at::kDouble)).abs();
    EXPECT_TRUE((error <= step * (1 + 1e-6)).all().item<bool>()) << spec << ": " << (error / step).max().item<double>();
    // x / step lies between the two neighbouring levels that can be drawn.
    const at::Tensor r = x.to(at::kDouble) / step;
    const at::Tensor level = payload.find("w#q8")->to(at::kDouble);
    EXPECT_TRUE(((level - r).abs() < 1 + 1e-9).all().item<bool>()) << spec;
  }
}

TEST(QsgdCodecTest, ScalesAreTheBucketsMaxAbsOrL2Norm) {
  at::manual_seed(7);
  const at::Tensor x = at::randn({2500});
  const ModelState max_payload = codec("qsgd")->encode(one_tensor(x), 1).value();
  const ModelState l2_payload = codec("qsgd:norm=l2")->encode(one_tensor(x), 1).value();
  const at::Tensor buckets = at::cat({x, at::zeros({3 * 1024 - 2500})}).view({3, 1024});
  EXPECT_TRUE(at::equal(*max_payload.find("w#scale"), std::get<0>(buckets.abs().max(1))));
  const at::Tensor l2 = buckets.to(at::kDouble).norm(2, 1);
  const at::Tensor stored = l2_payload.find("w#scale")->to(at::kDouble);
  EXPECT_TRUE((stored >= l2).all().item<bool>());  // rounded up to float32
  EXPECT_TRUE(at::allclose(stored, l2, 1e-7, 0));
}

TEST(QsgdCodecTest, SeedsGiveDifferentDrawsAndTheSameSeedTheSame) {
  const ModelState delta = testing::mnist_cnn_update(1);
  auto q = codec("qsgd");
  const ModelState a = q->encode(delta, 1).value();
  EXPECT_TRUE(identical(a, q->encode(delta, 1).value()));
  EXPECT_FALSE(at::equal(*a.find("fc1.weight#q8"), *q->encode(delta, 2).value().find("fc1.weight#q8")));
}

TEST(QsgdCodecTest, PayloadIsOneBytePerElementAndFourPerBucket) {
  const ModelState delta = one_tensor(at::randn({10000}));
  const ModelState payload = codec("qsgd")->encode(delta, 1).value();
  EXPECT_EQ(payload.find("w#q8")->scalar_type(), at::kChar);
  EXPECT_EQ(payload.byte_size(), 10000 + 4 * 10);  // ceil(10000 / 1024) = 10 buckets
}

Status decode_with(const std::string& spec, const std::string& part, const at::Tensor& value, int64_t index) {
  at::manual_seed(8);
  const ModelState layout = one_tensor(at::randn({100}));
  auto q = codec(spec);
  ModelState payload = q->encode(layout, 1).value();
  for (auto& e : payload.mutable_entries())
    if (e.name == part) e.tensor.view({-1})[index] = value;
  return q->decode(payload, layout).status();
}

TEST(QsgdCodecTest, RefusesLevelsBeyondS) {
  expect_invalid_argument(decode_with("qsgd", "w#q8", at::scalar_tensor(-128, at::kChar), 17),
                          "'w#q8' has level -128 at element 17, outside [-127, 127]");
  expect_invalid_argument(decode_with("qsgd:levels=3", "w#q8", at::scalar_tensor(4, at::kChar), 99),
                          "'w#q8' has level 4 at element 99, outside [-3, 3]");
}

TEST(QsgdCodecTest, RefusesNonFiniteAndNegativeScales) {
  expect_invalid_argument(decode_with("qsgd:bucket=10", "w#scale", at::scalar_tensor(NAN), 3),
                          "'w#scale' has scale nan for bucket 3");
  expect_invalid_argument(decode_with("qsgd:bucket=10", "w#scale", at::scalar_tensor(INFINITY), 0),
                          "'w#scale' has scale inf for bucket 0");
  expect_invalid_argument(decode_with("qsgd:bucket=10", "w#scale", at::scalar_tensor(-1.0), 9),
                          "'w#scale' has scale -1.000000 for bucket 9; scales are finite and >= 0");
}

TEST(QsgdCodecTest, RefusesAPayloadOfAnotherBucketSize) {
  const ModelState layout = one_tensor(at::randn({100}));
  const ModelState payload = codec("qsgd:bucket=10")->encode(layout, 1).value();
  expect_invalid_argument(codec("qsgd:bucket=50")->decode(payload, layout).status(),
                          "'w#scale' has shape [10], expected [2]");
}

}  // namespace
}  // namespace flotilla
