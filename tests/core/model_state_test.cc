#include "core/model_state.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>

#include "core/digest.h"

namespace flotilla {
namespace {

ModelState two_tensors() {
  ModelState s;
  s.add("a", at::ones({2, 3}));
  s.add("b", at::zeros({4}, at::kLong));
  return s;
}

TEST(ModelStateTest, SizesAndLookup) {
  ModelState s = two_tensors();
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.numel(), 10);
  EXPECT_EQ(s.byte_size(), 6 * 4 + 4 * 8);
  ASSERT_NE(s.find("b"), nullptr);
  EXPECT_EQ(s.find("c"), nullptr);
}

TEST(ModelStateTest, LayoutMismatchNamesTheTensor) {
  ModelState a = two_tensors();
  EXPECT_TRUE(a.check_same_layout(two_tensors()).ok());
  ModelState shape;
  shape.add("a", at::ones({3, 2}));
  shape.add("b", at::zeros({4}, at::kLong));
  Status s = a.check_same_layout(shape);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'a' has shape [3,2], expected [2,3]"), std::string::npos);
  ModelState dtype;
  dtype.add("a", at::ones({2, 3}));
  dtype.add("b", at::zeros({4}));
  EXPECT_NE(a.check_same_layout(dtype).message().find("'b' has dtype"), std::string::npos);
  ModelState fewer;
  fewer.add("a", at::ones({2, 3}));
  EXPECT_FALSE(a.check_same_layout(fewer).ok());
}

TEST(ModelStateTest, FiniteCheckNamesNaN) {
  ModelState s = two_tensors();
  EXPECT_TRUE(s.check_finite().ok());
  s.mutable_entries()[0].tensor[0][1] = std::numeric_limits<float>::quiet_NaN();
  Status st = s.check_finite();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'a'"), std::string::npos);
}

// The check goes through large tensors in slices: a bad value in any of them, and in strided,
// 0-dim and half-precision tensors, is found.
TEST(ModelStateTest, FiniteCheckFindsBadValuesInEverySlice) {
  for (int64_t where : {int64_t{0}, (int64_t{1} << 20) - 1, int64_t{1} << 20, (int64_t{3} << 20) + 5}) {
    ModelState s;
    s.add("ok", at::zeros({7}));
    s.add("big", at::zeros({(int64_t{3} << 20) + 6}));
    EXPECT_TRUE(s.check_finite().ok());
    s.mutable_entries()[1].tensor[where] = std::numeric_limits<float>::infinity();
    Status st = s.check_finite();
    ASSERT_FALSE(st.ok()) << where;
    EXPECT_NE(st.message().find("'big'"), std::string::npos) << st;
  }
  ModelState t;
  t.add("scalar", at::scalar_tensor(1.5));
  t.add("empty", at::zeros({0, 4}));
  t.add("half", at::ones({5}, at::kHalf));
  at::Tensor strided = at::zeros({4, 6}).t();
  strided[5][3] = std::numeric_limits<float>::quiet_NaN();
  t.add("strided", strided);
  Status st = t.check_finite();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'strided'"), std::string::npos) << st;
  t.mutable_entries()[3].tensor = at::zeros({4, 6}).t();
  EXPECT_TRUE(t.check_finite().ok());
}

TEST(ModelStateTest, CloneIsDeep) {
  ModelState s = two_tensors();
  ModelState c = s.clone();
  c.mutable_entries()[0].tensor.add_(1);
  EXPECT_EQ(s[0].tensor.sum().item<float>(), 6);
}

TEST(ModelStateTest, CloneOfAStridedTensorIsContiguousAndEqual) {
  ModelState s;
  s.add("t", at::arange(12, at::kFloat).reshape({3, 4}).t());  // non-contiguous
  s.add("x", at::arange(6, at::kLong).reshape({2, 3}));
  ModelState c = s.clone();
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_TRUE(c[i].tensor.is_contiguous()) << s[i].name;
    EXPECT_TRUE(at::equal(c[i].tensor, s[i].tensor)) << s[i].name;
    EXPECT_NE(c[i].tensor.data_ptr(), s[i].tensor.data_ptr()) << s[i].name;
    EXPECT_EQ(c[i].tensor.scalar_type(), s[i].tensor.scalar_type()) << s[i].name;
  }
}

TEST(DigestTest, Sha256KnownVectorAndModelSensitivity) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ModelState s = two_tensors();
  const std::string h = model_sha256(s);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, model_sha256(two_tensors()));
  s.mutable_entries()[0].tensor[1][2] = 1.0000001f;
  EXPECT_NE(h, model_sha256(s));
}

}  // namespace
}  // namespace flotilla
