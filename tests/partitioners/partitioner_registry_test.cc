#include <gtest/gtest.h>

#include <map>
#include <string>

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
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"dirichlet", "iid", "inner_dirichlet", "label_split",
                                                        "quantity_skew", "shards"}));
  const auto* d = registry.find("dirichlet");
  ASSERT_NE(d, nullptr);
  std::map<std::string, std::string> defaults;
  for (const auto& o : d->options) defaults[o.name] = o.default_value;
  EXPECT_EQ(defaults,
            (std::map<std::string, std::string>{
                {"alpha", "0.5"}, {"balance", "true"}, {"max_retries", "100"}, {"min_partition_size", "10"}}));
  EXPECT_TRUE(registry.find("iid")->options.empty());

  auto defaults_of = [&](const std::string& name) {
    std::map<std::string, std::string> out;
    for (const auto& o : registry.find(name)->options) out[o.name] = o.default_value;
    return out;
  };
  using Defaults = std::map<std::string, std::string>;
  EXPECT_EQ(defaults_of("shards"), (Defaults{{"shards_per_client", "2"}}));
  EXPECT_EQ(defaults_of("label_split"), (Defaults{{"assignment", "rotation"}, {"labels_per_client", "2"}}));
  EXPECT_EQ(defaults_of("quantity_skew"), (Defaults{{"alpha", "0.5"}, {"min_partition_size", "10"}}));
  EXPECT_EQ(defaults_of("inner_dirichlet"), (Defaults{{"alpha", "0.5"}}));
  for (const auto* e : registry.entries()) {
    EXPECT_FALSE(e->description.empty()) << e->name;
    for (const auto& o : e->options) EXPECT_FALSE(o.help.empty()) << e->name << " " << o.name;
  }
}

TEST(PartitionerRegistryTest, CreatesWithDefaultsAndGoodValues) {
  const auto registry = builtins();
  EXPECT_TRUE(registry.create("iid").ok());
  EXPECT_TRUE(registry.create("dirichlet").ok());
  EXPECT_TRUE(registry.create("dirichlet", Options{{"alpha", "0.3"}, {"balance", "false"}}).ok());
  for (const std::string name : {"shards", "label_split", "quantity_skew", "inner_dirichlet"})
    EXPECT_TRUE(registry.create(name).ok()) << name;
  EXPECT_TRUE(registry.create("shards", Options{{"shards_per_client", "1"}}).ok());
  EXPECT_TRUE(registry.create("label_split", Options{{"labels_per_client", "1"}}).ok());
  EXPECT_TRUE(registry.create("quantity_skew", Options{{"alpha", "100"}, {"min_partition_size", "0"}}).ok());
  EXPECT_TRUE(registry.create("inner_dirichlet", Options{{"alpha", "0.001"}}).ok());
}

TEST(PartitionerRegistryTest, BadNamesAndValuesAreInvalidArgument) {
  const auto registry = builtins();
  auto expect_error = [&](const std::string& name, const Options& options, const std::string& mentions) {
    auto made = registry.create(name, options);
    ASSERT_FALSE(made.ok()) << name;
    EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(made.status().message().find(mentions), std::string::npos) << made.status();
  };
  expect_error("nope", {}, "known: dirichlet, iid, inner_dirichlet, label_split, quantity_skew, shards");
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
  expect_error("shards", {{"shards_per_client", "0"}}, "shards_per_client");
  expect_error("shards", {{"shards_per_client", "two"}}, "shards_per_client");
  expect_error("shards", {{"alpha", "1"}}, "alpha");
  expect_error("label_split", {{"labels_per_client", "0"}}, "labels_per_client");
  expect_error("label_split", {{"assignment", "random"}}, "assignment must be rotation or niid_bench, got 'random'");
  expect_error("label_split", {{"labels_per_client", "-3"}}, "labels_per_client");
  expect_error("quantity_skew", {{"alpha", "0"}}, "alpha");
  expect_error("quantity_skew", {{"alpha", "nan"}}, "alpha");
  expect_error("quantity_skew", {{"min_partition_size", "-1"}}, "min_partition_size");
  expect_error("quantity_skew", {{"balance", "true"}}, "balance");
  expect_error("inner_dirichlet", {{"alpha", "-1"}}, "alpha");
  expect_error("inner_dirichlet", {{"min_partition_size", "5"}}, "min_partition_size");
}

}  // namespace
}  // namespace flotilla
