#include <gtest/gtest.h>

#include "partitioners/partitioner.h"

namespace flotilla {
namespace {

PartitionerRegistry builtins() {
  PartitionerRegistry registry("partitioner");
  EXPECT_TRUE(register_builtin_partitioners(registry).ok());
  return registry;
}

TEST(PartitionerRegistryTest, ListsBuiltinsWithDocumentedDefaults) {
  const auto registry = builtins();
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"dirichlet", "iid"}));
  const auto* d = registry.find("dirichlet");
  ASSERT_NE(d, nullptr);
  std::map<std::string, std::string> defaults;
  for (const auto& o : d->options) defaults[o.name] = o.default_value;
  EXPECT_EQ(defaults, (std::map<std::string, std::string>{
                          {"alpha", "0.5"}, {"balance", "true"}, {"max_retries", "100"}, {"min_partition_size", "10"}}));
  EXPECT_TRUE(registry.find("iid")->options.empty());
}

TEST(PartitionerRegistryTest, CreatesWithDefaultsAndGoodValues) {
  const auto registry = builtins();
  EXPECT_TRUE(registry.create("iid").ok());
  EXPECT_TRUE(registry.create("dirichlet").ok());
  EXPECT_TRUE(registry.create("dirichlet", Options{{"alpha", "0.3"}, {"balance", "false"}}).ok());
}

TEST(PartitionerRegistryTest, BadNamesAndValuesAreInvalidArgument) {
  const auto registry = builtins();
  auto expect_error = [&](const std::string& name, const Options& options, const std::string& mentions) {
    auto made = registry.create(name, options);
    ASSERT_FALSE(made.ok()) << name;
    EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(made.status().message().find(mentions), std::string::npos) << made.status();
  };
  expect_error("nope", {}, "known: dirichlet, iid");
  expect_error("dirichlet", {{"beta", "1"}}, "beta");
  expect_error("iid", {{"alpha", "1"}}, "alpha");
  expect_error("dirichlet", {{"alpha", "0"}}, "alpha");
  expect_error("dirichlet", {{"alpha", "-2"}}, "alpha");
  expect_error("dirichlet", {{"alpha", "x"}}, "alpha");
  expect_error("dirichlet", {{"alpha", "inf"}}, "alpha");
  expect_error("dirichlet", {{"min_partition_size", "-1"}}, "min_partition_size");
  expect_error("dirichlet", {{"min_partition_size", "1.5"}}, "min_partition_size");
  expect_error("dirichlet", {{"max_retries", "0"}}, "max_retries");
  expect_error("dirichlet", {{"max_retries", "1000000000"}}, "max_retries");
  expect_error("dirichlet", {{"balance", "maybe"}}, "balance");
}

}  // namespace
}  // namespace flotilla
