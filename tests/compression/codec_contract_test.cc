// Every codec passes this contract: decode gives back the layout (names, dtypes, shapes) with
// integer and bool tensors unchanged, a zero update decodes to zero, the same seed gives the same
// payload, error feedback keeps what was not sent, and a payload with a tensor missing, added,
// repeated, of another dtype or shape, or undefined is refused with a message naming it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cctype>
#include <limits>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

using testing::codec;
using testing::identical;
using testing::mixed_update;

class CodecContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<UpdateCodec> codec_ = codec(GetParam());
};

void expect_refused(const StatusOr<ModelState>& result, const std::string& needle) {
  ASSERT_FALSE(result.ok()) << "accepted; expected an error mentioning " << needle;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status();
}

TEST_P(CodecContractTest, DecodeGivesTheLayoutAndPassesIntegersThrough) {
  const ModelState delta = mixed_update(1);
  auto payload = codec_->encode(delta, 7);
  ASSERT_TRUE(payload.ok()) << payload.status();
  auto decoded = codec_->decode(*payload, delta);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(delta.check_same_layout(*decoded).ok()) << delta.check_same_layout(*decoded);
  EXPECT_TRUE(decoded->check_finite().ok());
  EXPECT_TRUE(at::equal(*decoded->find("bn.num_batches_tracked"), *delta.find("bn.num_batches_tracked")));
  EXPECT_TRUE(at::equal(*decoded->find("mask"), *delta.find("mask")));
  for (const auto& e : decoded->entries()) EXPECT_TRUE(e.tensor.is_contiguous()) << e.name;
}

TEST_P(CodecContractTest, ZeroUpdateDecodesToZero) {
  ModelState zero;
  const ModelState delta = mixed_update(1);
  for (const auto& e : delta.entries())
    zero.add(e.name, e.tensor.is_floating_point() ? at::zeros_like(e.tensor) : e.tensor);
  auto decoded = codec_->decode(codec_->encode(zero, 3).value(), zero);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(identical(*decoded, zero));
}

TEST_P(CodecContractTest, SameSeedSamePayload) {
  const ModelState delta = mixed_update(2);
  EXPECT_TRUE(identical(codec_->encode(delta, 11).value(), codec_->encode(delta, 11).value()));
}

TEST_P(CodecContractTest, EmptyStateGivesEmptyPayload) {
  auto payload = codec_->encode(ModelState(), 1);
  ASSERT_TRUE(payload.ok());
  EXPECT_TRUE(payload->empty());
  EXPECT_TRUE(codec_->decode(*payload, ModelState()).value().empty());
}

// decode(payload) + new residual == delta + old residual each round, in the delta's dtype: exactly
// for codecs that copy what they send (none, topk), up to the rounding of that round's subtraction
// (new residual = corrected - decoded) for the others.
TEST_P(CodecContractTest, ErrorFeedbackKeepsWhatWasNotSent) {
  ModelState residual;
  for (int round = 0; round < 5; ++round) {
    const ModelState delta = mixed_update(10 + static_cast<uint64_t>(round));
    const ModelState old_residual = residual;
    auto payload = codec_->encode(delta, static_cast<uint64_t>(round), &residual);
    ASSERT_TRUE(payload.ok()) << payload.status();
    ASSERT_TRUE(delta.check_same_layout(residual).ok()) << delta.check_same_layout(residual);
    const ModelState decoded = codec_->decode(*payload, delta).value();
    for (size_t i = 0; i < delta.size(); ++i) {
      const at::Tensor& d = delta[i].tensor;
      if (!d.is_floating_point()) {
        EXPECT_EQ(residual[i].tensor.count_nonzero().item<int64_t>(), 0) << delta[i].name;
        continue;
      }
      const at::Tensor corrected = old_residual.empty() ? d : d + old_residual[i].tensor;
      const at::Tensor sum = decoded[i].tensor.to(at::kDouble) + residual[i].tensor.to(at::kDouble);
      const at::Tensor error = (sum - corrected.to(at::kDouble)).abs();
      // One rounding of the residual's subtraction: half an ulp of the residual's dtype.
      const double eps = d.scalar_type() == at::kHalf ? 0x1p-11 : d.scalar_type() == at::kFloat ? 0x1p-24 : 0x1p-53;
      const bool exact = GetParam() == "none" || GetParam().rfind("topk", 0) == 0;
      if (exact && d.scalar_type() == at::kFloat) {
        EXPECT_TRUE(error.eq(0).all().item<bool>()) << delta[i].name << " round " << round;
      } else {
        const at::Tensor bound = residual[i].tensor.to(at::kDouble).abs() * eps;
        EXPECT_TRUE((error <= bound).all().item<bool>()) << delta[i].name << " round " << round;
      }
    }
  }
}

TEST_P(CodecContractTest, ResidualOfAnotherLayoutIsRefusedAndKept) {
  ModelState residual;
  residual.add("other", at::zeros({3}));
  expect_refused(codec_->encode(mixed_update(1), 1, &residual), "error-feedback residual");
  EXPECT_EQ(residual.size(), 1u);
  EXPECT_EQ(residual[0].name, "other");
}

TEST_P(CodecContractTest, NonFiniteUpdateIsRefused) {
  ModelState delta = mixed_update(1);
  delta.mutable_entries()[1].tensor[3] = std::numeric_limits<float>::quiet_NaN();
  expect_refused(codec_->encode(delta, 1), "'conv.bias' contains NaN or Inf");
}

TEST_P(CodecContractTest, NamesWithHashAreRefused) {
  ModelState delta;
  delta.add("w#idx", at::ones({4}));
  expect_refused(codec_->encode(delta, 1), "'w#idx' contains '#'");
  expect_refused(codec_->decode(ModelState(), delta), "'w#idx' contains '#'");
}

// Hostile payloads that every codec must refuse, built from a valid one so that only one thing is
// wrong at a time.
TEST_P(CodecContractTest, RefusesMissingExtraAndRepeatedTensors) {
  const ModelState layout = mixed_update(1);
  const ModelState payload = codec_->encode(layout, 1).value();
  expect_refused(codec_->decode(ModelState(), layout), "payload lacks tensor");
  for (size_t drop = 0; drop < payload.size(); ++drop) {
    ModelState fewer;
    for (size_t i = 0; i < payload.size(); ++i)
      if (i != drop) fewer.add(payload[i].name, payload[i].tensor);
    expect_refused(codec_->decode(fewer, layout), "lacks tensor '" + payload[drop].name + "'");
  }
  ModelState extra = payload;
  extra.add("fc.weight#smuggled", at::zeros({1000}));
  expect_refused(codec_->decode(extra, layout), "unexpected tensor 'fc.weight#smuggled'");
  ModelState repeated = payload;
  repeated.mutable_entries().push_back(payload[0]);
  expect_refused(codec_->decode(repeated, layout), "'" + payload[0].name + "' twice");
}

TEST_P(CodecContractTest, RefusesWrongDtypesShapesAndUndefinedTensors) {
  const ModelState layout = mixed_update(1);
  const ModelState payload = codec_->encode(layout, 1).value();
  for (size_t i = 0; i < payload.size(); ++i) {
    const NamedTensor& e = payload[i];
    ModelState dtype = payload, shape = payload, undefined = payload;
    dtype.mutable_entries()[i].tensor = e.tensor.to(e.tensor.scalar_type() == at::kDouble ? at::kFloat : at::kDouble);
    expect_refused(codec_->decode(dtype, layout), "tensor '" + e.name + "' has dtype");
    shape.mutable_entries()[i].tensor = at::zeros({e.tensor.numel() + 1}, e.tensor.options());
    expect_refused(codec_->decode(shape, layout), "tensor '" + e.name + "' has ");
    undefined.mutable_entries()[i].tensor = at::Tensor();
    expect_refused(codec_->decode(undefined, layout), "tensor '" + e.name + "' is undefined");
    ModelState expanded = payload;  // 1e12 elements viewed over one
    expanded.mutable_entries()[i].tensor = at::zeros({1}, e.tensor.options()).expand({1'000'000'000'000});
    expect_refused(codec_->decode(expanded, layout), "tensor '" + e.name + "' is a view larger than its data");
  }
}

TEST_P(CodecContractTest, RefusesNonFiniteFloatingPayloads) {
  const ModelState layout = mixed_update(1);
  const ModelState payload = codec_->encode(layout, 1).value();
  int checked = 0;
  for (size_t i = 0; i < payload.size(); ++i) {
    const NamedTensor& e = payload[i];
    if (!e.tensor.is_floating_point() || e.tensor.numel() == 0) continue;
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
      ModelState hostile = payload;
      hostile.mutable_entries()[i].tensor = e.tensor.clone();
      hostile.mutable_entries()[i].tensor.view({-1})[0] = bad;
      expect_refused(codec_->decode(hostile, layout), "tensor '" + e.name + "' has ");
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecContractTest,
                         ::testing::Values("none", "fp16", "bf16", "qsgd", "qsgd:norm=l2", "qsgd:levels=3,bucket=16",
                                           "topk", "topk:ratio=0.3,error_feedback=0"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name;
                           for (char c : param.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace flotilla
