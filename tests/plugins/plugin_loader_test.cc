#include "core/plugin_loader.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "aggregators/aggregator.h"
#include "partitioners/partitioner.h"
#include "training/client_algorithm.h"

namespace flotilla {
namespace {

// What a host passes a plugin: every registry (a plugin may fill any of them).
struct Registries {
  AggregatorRegistry aggregators{"aggregator"};
  PartitionerRegistry partitioners{"partitioner"};
  ClientAlgorithmRegistry client_algorithms{"client half"};
  PluginRegistrar registrar() { return {&aggregators, &partitioners, &client_algorithms}; }
};

TEST(PluginLoaderTest, ExamplePluginRegistersAWorkingAggregator) {
  Registries r;
  AggregatorRegistry& registry = r.aggregators;
  PluginRegistrar registrar = r.registrar();
  Status s = load_plugin(EXAMPLE_PLUGIN, registrar);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(registry.contains("clipped_fedavg"));
  auto aggregator = registry.create("clipped_fedavg", Options{{"max_norm", "1.0"}});
  ASSERT_TRUE(aggregator.ok()) << aggregator.status();

  // Global 0; client A moves by 10 (clipped to 1), client B by 0.5 (kept); equal weights.
  ModelState global;
  global.add("w", at::zeros({1}));
  std::vector<ClientUpdate> updates(2);
  updates[0] = {0, 1, {}, 0};
  updates[0].state.add("w", at::full({1}, 10.0f));
  updates[1] = {1, 1, {}, 0};
  updates[1].state.add("w", at::full({1}, 0.5f));
  auto out = (*aggregator)->aggregate({1, &global, updates, {}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NEAR((*out)[0].tensor.item<float>(), (1.0 + 0.5) / 2, 1e-5);

  // Its checkpoint methods, called through the plugin's vtable: stateless, so nothing to save
  // and a foreign state refused.
  EXPECT_TRUE((*aggregator)->save_state().empty());
  EXPECT_TRUE((*aggregator)->restore_state(ModelState()).ok());
  ModelState foreign;
  foreign.add("velocity/w", at::zeros({1}));
  Status refused = (*aggregator)->restore_state(foreign);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("velocity/w"), std::string::npos) << refused;

  EXPECT_FALSE(registry.create("clipped_fedavg", Options{{"max_norm", "-1"}}).ok());
}

TEST(PluginLoaderTest, WrongApiVersionIsRefusedByName) {
  Registries r;
  PluginRegistrar registrar = r.registrar();
  Status s = load_plugin(WRONG_VERSION_PLUGIN, registrar);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  static_assert(kPluginApiVersion == 5, "update this test and wrong_version_plugin.cc with the new history");
  EXPECT_NE(s.message().find("built against plugin API version 4"), std::string::npos) << s;
  EXPECT_NE(s.message().find("needs plugin API version 5"), std::string::npos) << s;
  EXPECT_NE(s.message().find("provides_features"), std::string::npos) << s;  // what changed
  EXPECT_EQ(s.message().find("begin_fold"), std::string::npos) << s;         // not what changed before
  EXPECT_NE(s.message().find("rebuild"), std::string::npos) << s;            // what to do
  EXPECT_NE(s.message().find(WRONG_VERSION_PLUGIN), std::string::npos) << s;
}

TEST(PluginLoaderTest, APluginOfTheFirstApiHearsOfEveryChangeSince) {
  const std::string changes = plugin_api_changes_since(1);
  EXPECT_NE(changes.find("save_state"), std::string::npos) << changes;
  EXPECT_NE(changes.find("client halves"), std::string::npos) << changes;
  EXPECT_NE(changes.find("begin_fold"), std::string::npos) << changes;
  EXPECT_NE(changes.find("provides_features"), std::string::npos) << changes;
  EXPECT_EQ(plugin_api_changes_since(kPluginApiVersion), "");
}

TEST(PluginLoaderTest, LibraryWithoutEntryPointIsRefused) {
  Registries r;
  PluginRegistrar registrar = r.registrar();
  Status s = load_plugin(NOT_A_PLUGIN, registrar);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not a Flotilla plugin"), std::string::npos) << s;
}

TEST(PluginLoaderTest, MissingFileIsNotFound) {
  Registries r;
  PluginRegistrar registrar = r.registrar();
  Status s = load_plugin("/nonexistent/libnothing.so", registrar);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/libnothing.so"), std::string::npos);
}

}  // namespace
}  // namespace flotilla
