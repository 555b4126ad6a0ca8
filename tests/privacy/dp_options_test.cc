#include "privacy/dp_options.h"

#include <gtest/gtest.h>

#include "tests/support/text.h"

namespace flotilla {
namespace {

TEST(DpOptionsTest, DefaultsAndRoundTrip) {
  auto o = dp_options_from("central", Options{{"noise_multiplier", "1.3"}, {"adaptive", "true"}});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->mode, DpMode::kCentral);
  EXPECT_DOUBLE_EQ(o->noise_multiplier, 1.3);
  EXPECT_DOUBLE_EQ(o->clip_norm, 1.0);
  EXPECT_TRUE(o->adaptive);
  auto again = dp_options_from("central", Options(to_map(*o)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(to_map(*again), to_map(*o));
  EXPECT_FALSE(dp_options_from("off", Options())->enabled());
}

TEST(DpOptionsTest, BadValuesNameTheOption) {
  struct Case {
    std::string mode;
    Options options;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"global", {}, "--dp must be off, central or local"},
      {"central", {{"noise_multiplier", "0"}}, "noise_multiplier must be > 0"},
      {"central", {{"clip_norm", "-1"}}, "clip_norm must be > 0"},
      {"central", {{"delta", "1"}}, "delta must be in (0, 1)"},
      {"central", {{"target_epsilon", "-2"}}, "target_epsilon must be >= 0"},
      {"central", {{"target_quantile", "1.5"}}, "target_quantile must be in (0, 1)"},
      {"central", {{"clip_nrom", "1"}}, "clip_nrom"},
      {"local", {{"adaptive", "true"}}, "adaptive=true is for --dp central"},
      {"off", {{"clip_norm", "1"}}, "--dp-opt needs --dp central or --dp local"},
  };
  for (const Case& c : cases) {
    auto o = dp_options_from(c.mode, c.options);
    ASSERT_FALSE(o.ok()) << c.expected;
    EXPECT_TRUE(test_text::contains(o.status().message(), c.expected)) << o.status().message();
  }
}

}  // namespace
}  // namespace flotilla
