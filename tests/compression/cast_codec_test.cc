// "none" is the identity; "fp16" and "bf16" decode to exactly the cast of the update.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

using testing::one_tensor;

using testing::codec;
using testing::identical;

TEST(IdentityCodecTest, PayloadIsTheUpdateAndDecodesExactly) {
  const ModelState delta = testing::mixed_update(1);
  auto none = codec("none");
  const ModelState payload = none->encode(delta, 1).value();
  EXPECT_TRUE(identical(payload, delta));
  EXPECT_TRUE(identical(none->decode(payload, delta).value(), delta));
  EXPECT_FALSE(none->wants_error_feedback());
}

TEST(CastCodecTest, DecodesToTheCast) {
  at::manual_seed(3);
  // Magnitudes from 1e-9 (float16 subnormal or zero) to 1e4.
  const at::Tensor x = at::randn({4000}) * at::pow(10.0, at::randint(-9, 5, {4000}).to(at::kFloat));
  for (const auto& [name, wire] : {std::pair{"fp16", at::kHalf}, std::pair{"bf16", at::kBFloat16}}) {
    auto c = codec(name);
    const ModelState payload = c->encode(one_tensor(x), 1).value();
    ASSERT_EQ(payload.size(), 1u);
    EXPECT_EQ(payload[0].name, std::string("w#") + name);
    EXPECT_EQ(payload[0].tensor.scalar_type(), wire);
    EXPECT_EQ(payload.byte_size(), x.numel() * 2);
    const ModelState decoded = c->decode(payload, one_tensor(x)).value();
    EXPECT_TRUE(at::equal(decoded[0].tensor, x.to(wire).to(at::kFloat))) << name;
  }
}

TEST(CastCodecTest, Fp16RefusesValuesBeyondItsRangeAndBf16KeepsThem) {
  const ModelState big = one_tensor(at::tensor({1.0f, -70000.0f}));
  auto refused = codec("fp16")->encode(big, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("'w' has values beyond Half's range"), std::string::npos)
      << refused.status();
  auto bf16 = codec("bf16");
  const ModelState decoded = bf16->decode(bf16->encode(big, 1).value(), big).value();
  EXPECT_EQ(decoded[0].tensor[1].item<float>(), -70144.0f);  // the nearest bfloat16
}

TEST(CastCodecTest, RefusesAPayloadOfTheOtherCast) {
  const ModelState delta = one_tensor(at::ones({3}));
  ModelState payload;
  payload.add("w#fp16", at::ones({3}, at::kBFloat16));
  auto decoded = codec("fp16")->decode(payload, delta);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("'w#fp16' has dtype BFloat16, expected Half"), std::string::npos)
      << decoded.status();
  EXPECT_NE(codec("bf16")->decode(payload, delta).status().message().find("lacks tensor 'w#bf16'"), std::string::npos);
}

TEST(CastCodecTest, DecodedValuesBeyondANarrowModelDtypeAreRefused) {
  // A bfloat16 payload may hold 1e10, which a float16 model cannot.
  const ModelState layout = one_tensor(at::zeros({2}, at::kHalf));
  ModelState payload;
  payload.add("w#bf16", at::tensor({1.0f, 1e10f}).to(at::kBFloat16));
  auto decoded = codec("bf16")->decode(payload, layout);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("decoded to the model's dtype: tensor 'w' has a non-finite value"),
            std::string::npos)
      << decoded.status();
}

}  // namespace
}  // namespace flotilla
