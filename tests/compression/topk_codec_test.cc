// "topk": keeps exactly the k largest magnitudes, its error feedback loses nothing, and its indices
// are checked one by one.
#include "compression/topk_codec.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

using testing::expect_invalid_argument;
using testing::one_tensor;

using testing::codec;

TEST(TopKCodecTest, KeepsExactlyTheKLargestMagnitudes) {
  at::manual_seed(1);
  const at::Tensor x = at::randn({40, 25});
  auto topk = codec("topk:ratio=0.05");
  const ModelState payload = topk->encode(one_tensor(x), 1).value();
  const at::Tensor idx = *payload.find("w#idx");
  ASSERT_EQ(idx.scalar_type(), at::kInt);
  ASSERT_EQ(idx.numel(), 50);
  const at::Tensor expected = std::get<1>(x.abs().view({-1}).topk(50));
  std::set<int64_t> want, got;
  for (int64_t j = 0; j < 50; ++j) {
    want.insert(expected[j].item<int64_t>());
    got.insert(idx[j].item<int64_t>());
  }
  EXPECT_EQ(got, want);
  const at::Tensor decoded = topk->decode(payload, one_tensor(x)).value()[0].tensor.view({-1});
  const at::Tensor kept = decoded.ne(0);
  EXPECT_EQ(kept.sum().item<int64_t>(), 50);
  for (int64_t i : want) EXPECT_EQ(decoded[i].item<float>(), x.view({-1})[i].item<float>());
}

TEST(TopKCodecTest, IndicesIncreaseAndTiesKeepTheLowerIndices) {
  auto topk = codec("topk:ratio=0.4");  // k = 2 of 5
  const ModelState payload = topk->encode(one_tensor(at::tensor({1.0f, -3.0f, 2.0f, 3.0f, -3.0f})), 1).value();
  EXPECT_TRUE(at::equal(*payload.find("w#idx"), at::tensor({1, 3}, at::kInt)));
  EXPECT_TRUE(at::equal(*payload.find("w#val"), at::tensor({-3.0f, 3.0f})));
}

TEST(TopKCodecTest, KeepsRoundedRatioAndAtLeastOne) {
  auto make = [](double ratio) { return TopKCodec(TopKOptions{ratio, true}); };
  EXPECT_EQ(make(0.07).kept(100), 7);  // 0.07 * 100 = 7.000000000000001: rounded, not ceiled
  EXPECT_EQ(make(0.01).kept(10), 1);
  EXPECT_EQ(make(0.01).kept(1'605'632), 16'056);
  EXPECT_EQ(make(1.0).kept(33), 33);
  EXPECT_EQ(make(0.5).kept(0), 0);
}

TEST(TopKCodecTest, ErrorFeedbackIsOnByDefault) {
  EXPECT_TRUE(codec("topk")->wants_error_feedback());
  EXPECT_FALSE(codec("topk:error_feedback=0")->wants_error_feedback());
}

// Over R rounds, sum of decoded updates + final residual == sum of deltas. Each round is exact in
// float32 (decoded and residual split the corrected update); what remains is the float32 rounding
// of corrected = delta + residual, at most half an ulp of |corrected| per round and element.
TEST(TopKCodecTest, DecodedUpdatesPlusResidualSumToTheDeltas) {
  auto topk = codec("topk:ratio=0.02");
  ModelState residual;
  at::Tensor sum_delta = at::zeros({30, 40}, at::kDouble), sum_decoded = sum_delta.clone(), bound = sum_delta.clone();
  for (int round = 0; round < 20; ++round) {
    at::manual_seed(100 + round);
    const ModelState delta = one_tensor(at::randn({30, 40}));
    const at::Tensor corrected = residual.empty() ? delta[0].tensor : delta[0].tensor + residual[0].tensor;
    const ModelState decoded = topk->decode(topk->encode(delta, 1, &residual).value(), delta).value();
    EXPECT_TRUE(at::equal(decoded[0].tensor + residual[0].tensor, corrected)) << "round " << round;
    sum_delta += delta[0].tensor.to(at::kDouble);
    sum_decoded += decoded[0].tensor.to(at::kDouble);
    bound += corrected.to(at::kDouble).abs() * 0x1p-24;
  }
  const at::Tensor error = (sum_decoded + residual[0].tensor.to(at::kDouble) - sum_delta).abs();
  EXPECT_TRUE((error <= bound).all().item<bool>());
}

TEST(TopKCodecTest, PayloadIsEightBytesPerKeptEntry) {
  const ModelState delta = testing::mnist_cnn_update(1);
  const TopKCodec topk(TopKOptions{});
  int64_t kept = 0;
  for (const auto& e : delta.entries()) kept += topk.kept(e.tensor.numel());
  EXPECT_EQ(topk.encode(delta, 1).value().byte_size(), 8 * kept);
}

Status decode_hostile(const at::Tensor& idx, const at::Tensor& val, int64_t n = 10,
                      const char* spec = "topk:ratio=0.3") {
  ModelState payload;
  payload.add("w#idx", idx);
  payload.add("w#val", val);
  return codec(spec)->decode(payload, one_tensor(at::zeros({n}))).status();
}

TEST(TopKCodecTest, AcceptsAValidHandWrittenPayload) {
  EXPECT_TRUE(decode_hostile(at::tensor({0, 5, 9}, at::kInt), at::ones({3})).ok());
}

TEST(TopKCodecTest, RefusesIndicesOutOfRange) {
  expect_invalid_argument(decode_hostile(at::tensor({0, 5, 10}, at::kInt), at::ones({3})),
                          "'w#idx' has index 10 at position 2, outside [0, 10)");
  expect_invalid_argument(decode_hostile(at::tensor({-1, 5, 9}, at::kInt), at::ones({3})),
                          "'w#idx' has index -1 at position 0, outside [0, 10)");
}

TEST(TopKCodecTest, RefusesRepeatedAndUnsortedIndices) {
  expect_invalid_argument(decode_hostile(at::tensor({2, 2, 9}, at::kInt), at::ones({3})),
                          "'w#idx' has index 2 at position 1 after index 2; indices must be strictly increasing");
  expect_invalid_argument(decode_hostile(at::tensor({2, 7, 4}, at::kInt), at::ones({3})),
                          "'w#idx' has index 4 at position 2 after index 7");
}

TEST(TopKCodecTest, RefusesMoreOrFewerEntriesThanK) {
  expect_invalid_argument(decode_hostile(at::arange(12, at::kInt), at::ones({12})),
                          "'w#idx' has 12 entries, expected k = 3 (ratio 0.300000 of 10 elements)");
  expect_invalid_argument(decode_hostile(at::tensor({1, 2}, at::kInt), at::ones({2})),
                          "'w#idx' has 2 entries, expected k = 3");
  expect_invalid_argument(decode_hostile(at::tensor({1, 2, 3}, at::kInt), at::ones({4})),
                          "'w#val' has 4 entries, expected k = 3");
}

TEST(TopKCodecTest, RefusesOtherDtypesAndShapes) {
  expect_invalid_argument(decode_hostile(at::tensor({1, 2, 3}, at::kLong), at::ones({3})),
                          "'w#idx' has dtype Long, expected Int");
  expect_invalid_argument(decode_hostile(at::tensor({1, 2, 3}, at::kInt), at::ones({3}, at::kDouble)),
                          "'w#val' has dtype Double, expected Float");
  expect_invalid_argument(decode_hostile(at::tensor({1, 2, 3}, at::kInt).view({1, 3}), at::ones({3})),
                          "'w#idx' has shape [1,3], expected [3]");
  expect_invalid_argument(decode_hostile(at::tensor({1, 2, 3}, at::kInt), at::tensor({1.0f, NAN, 1.0f})),
                          "'w#val' has a non-finite value (nan) at element 1");
}

}  // namespace
}  // namespace flotilla
