#include "core/options.h"

#include <gtest/gtest.h>

#include "core/registry.h"

namespace flotilla {
namespace {

TEST(OptionsTest, ParsesAssignmentsAndTypes) {
  auto o = Options::parse({"lr=0.5", "steps=3", "on=true", "name=x=y"});
  ASSERT_TRUE(o.ok());
  EXPECT_DOUBLE_EQ(*o->get_double("lr"), 0.5);
  EXPECT_EQ(*o->get_int("steps"), 3);
  EXPECT_TRUE(*o->get_bool("on"));
  EXPECT_EQ(*o->get_string("name"), "x=y");
}

TEST(OptionsTest, BadValuesAreNamed) {
  EXPECT_FALSE(Options::parse({"novalue"}).ok());
  Options o({{"lr", "fast"}, {"n", "1.5"}, {"x", "nan"}});
  auto lr = o.get_double("lr");
  ASSERT_FALSE(lr.ok());
  EXPECT_NE(lr.status().message().find("'lr'"), std::string::npos);
  EXPECT_FALSE(o.get_int("n").ok());
  EXPECT_FALSE(o.get_double("x").ok());
  EXPECT_EQ(o.get_double("missing").status().code(), StatusCode::kNotFound);
}

TEST(OptionsTest, SpecsRejectUnknownAndFillDefaults) {
  std::vector<OptionSpec> specs{{"beta", "0.9", "momentum"}, {"tau", "1e-3", "adaptivity"}};
  Options o({{"beta", "0.5"}});
  ASSERT_TRUE(o.apply_specs("fedadam", specs).ok());
  EXPECT_EQ(*o.get_string("beta"), "0.5");
  EXPECT_EQ(*o.get_string("tau"), "1e-3");
  Options bad({{"gamma", "1"}});
  Status s = bad.apply_specs("fedadam", specs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gamma"), std::string::npos);
  EXPECT_NE(s.message().find("beta, tau"), std::string::npos);
}

struct Widget {
  virtual ~Widget() = default;
  double size = 0;
};

TEST(RegistryTest, CreatesByNameAndListsKnownOnError) {
  Registry<Widget> registry("widget");
  ASSERT_TRUE(registry
                  .add({"box",
                        "a box",
                        {{"size", "2", "edge"}},
                        [](const Options& o) -> StatusOr<std::unique_ptr<Widget>> {
                          ASSIGN_OR_RETURN(double size, o.get_double("size"));
                          if (size <= 0) return invalid_argument_error("size must be > 0");
                          auto w = std::make_unique<Widget>();
                          w->size = size;
                          return w;
                        }})
                  .ok());
  EXPECT_EQ(registry.add({"box", "", {}, registry.find("box")->factory}).code(), StatusCode::kAlreadyExists);
  auto made = registry.create("box");
  ASSERT_TRUE(made.ok());
  EXPECT_DOUBLE_EQ((*made)->size, 2);
  auto unknown = registry.create("ball");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known: box"), std::string::npos);
  auto bad = registry.create("box", Options({{"size", "-1"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("widget 'box': size must be > 0"), std::string::npos);
}

}  // namespace
}  // namespace flotilla
