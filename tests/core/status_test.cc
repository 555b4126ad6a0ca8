#include "core/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace flotilla {
namespace {

StatusOr<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument_error("not positive: " + std::to_string(v));
  return v;
}

StatusOr<int> doubled(int v) {
  ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check_both(int a, int b) {
  RETURN_IF_ERROR(parse_positive(a).status());
  RETURN_IF_ERROR(parse_positive(b).status());
  return Status();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  Status s = not_found_error("file x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.to_string(), "NOT_FOUND: file x");
  EXPECT_EQ(s.with_context("loading").message(), "loading: file x");
  EXPECT_TRUE(Status().with_context("x").ok());
  EXPECT_EQ(permission_denied_error("id 3").to_string(), "PERMISSION_DENIED: id 3");
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*doubled(4), 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "not positive: -1");
  EXPECT_TRUE(check_both(1, 2).ok());
  EXPECT_EQ(check_both(1, 0).message(), "not positive: 0");
}

TEST(StatusTest, StatusOrHoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(5);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> v = std::move(p).value();
  EXPECT_EQ(*v, 5);
}

TEST(StatusDeathTest, ValueOfErrorAborts) {
  StatusOr<int> e = internal_error("boom");
  EXPECT_DEATH((void)e.value(), "boom");
}

}  // namespace
}  // namespace flotilla
