#include "partitioners/partitioner_flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "partitioners/partitioner.h"

namespace flotilla {
namespace {

using OptionMap = std::map<std::string, std::string>;

OptionMap options_for(const std::string& partitioner, const PartitionerFlags& flags) {
  auto options = partitioner_options_from_flags(partitioner, flags);
  EXPECT_TRUE(options.ok()) << options.status();
  return options.ok() ? *options : OptionMap{};
}

TEST(PartitionerFlagsTest, AlphaAndMinimumSizeGoOnlyToSchemesThatTakeThem) {
  const PartitionerFlags defaults;
  EXPECT_EQ(options_for("dirichlet", defaults), (OptionMap{{"alpha", "0.5"}, {"min_partition_size", "10"}}));
  EXPECT_EQ(options_for("quantity_skew", defaults), (OptionMap{{"alpha", "0.5"}, {"min_partition_size", "10"}}));
  EXPECT_EQ(options_for("inner_dirichlet", defaults), (OptionMap{{"alpha", "0.5"}}));
  EXPECT_EQ(options_for("iid", defaults), OptionMap{});
  EXPECT_EQ(options_for("shards", defaults), OptionMap{});
  EXPECT_EQ(options_for("label_split", defaults), OptionMap{});
}

TEST(PartitionerFlagsTest, ShardAndLabelCountsPassOnlyWhenGiven) {
  PartitionerFlags flags;
  flags.shards_per_client = 3;
  EXPECT_EQ(options_for("shards", flags), (OptionMap{{"shards_per_client", "3"}}));
  flags.shards_per_client.reset();
  flags.labels_per_client = 2;
  EXPECT_EQ(options_for("label_split", flags), (OptionMap{{"labels_per_client", "2"}}));
  // Given to a scheme without such an option, it is passed on so that building the scheme fails
  // loudly instead of the flag being ignored.
  EXPECT_EQ(options_for("iid", flags), (OptionMap{{"labels_per_client", "2"}}));
}

TEST(PartitionerFlagsTest, AlphaSurvivesTheRoundTripThroughText) {
  for (double alpha : {1e-7, 0.1, 1.0 / 3, 100.0}) {
    PartitionerFlags flags;
    flags.alpha = alpha;
    const OptionMap options = options_for("dirichlet", flags);
    EXPECT_EQ(std::strtod(options.at("alpha").c_str(), nullptr), alpha) << options.at("alpha");
  }
}

TEST(PartitionerFlagsTest, ExtraOptionsComeLastAndWin) {
  PartitionerFlags flags;
  flags.extra = {"alpha=2", "max_retries=5", "alpha=3"};
  EXPECT_EQ(options_for("dirichlet", flags),
            (OptionMap{{"alpha", "3"}, {"max_retries", "5"}, {"min_partition_size", "10"}}));
}

TEST(PartitionerFlagsTest, ExtraOptionWithoutEqualsIsInvalidArgument) {
  PartitionerFlags flags;
  flags.extra = {"alpha"};
  auto options = partitioner_options_from_flags("dirichlet", flags);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(options.status().message().find("'alpha'"), std::string::npos) << options.status();
}

// The mapping never hands a built-in scheme an option it does not declare: each accepts the
// options its default flags produce.
TEST(PartitionerFlagsTest, EveryBuiltinAcceptsItsDefaultFlags) {
  PartitionerRegistry registry("partitioner");
  ASSERT_TRUE(register_builtin_partitioners(registry).ok());
  for (const std::string& name : registry.names()) {
    auto made = registry.create(name, Options(options_for(name, PartitionerFlags())));
    EXPECT_TRUE(made.ok()) << name << ": " << made.status();
  }
}

// A flag given for a scheme without that option is refused with a message naming both, the
// same for flotilla-coordinator and flotilla-partition (both call this).
TEST(PartitionerFlagsTest, FlagsASchemeDoesNotTakeAreRefusedByName) {
  PartitionerRegistry registry("partitioner");
  ASSERT_TRUE(register_builtin_partitioners(registry).ok());
  const auto& shards = *registry.find("shards");
  EXPECT_TRUE(check_flags_apply(shards, {}).ok());
  EXPECT_TRUE(check_flags_apply(shards, {"--shards-per-client"}).ok());
  EXPECT_TRUE(check_flags_apply(*registry.find("dirichlet"), {"--alpha", "--min-partition-size"}).ok());

  const Status alpha = check_flags_apply(shards, {"--shards-per-client", "--alpha"});
  EXPECT_EQ(alpha.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(alpha.message(), "--alpha does not apply to --partitioner shards (its options: shards_per_client)");
  EXPECT_EQ(check_flags_apply(*registry.find("iid"), {"--labels-per-client"}).message(),
            "--labels-per-client does not apply to --partitioner iid (it takes no options)");
  // Every flag maps to an option some built-in scheme takes.
  for (const std::string& flag : partitioner_option_flags()) {
    bool taken = false;
    for (const auto* e : registry.entries()) taken = taken || check_flags_apply(*e, {flag}).ok();
    EXPECT_TRUE(taken) << flag;
  }
}

}  // namespace
}  // namespace flotilla
