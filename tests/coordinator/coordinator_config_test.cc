#include "coordinator/coordinator_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace flotilla {
namespace {

CoordinatorConfig valid() {
  CoordinatorConfig c;
  c.experiment.num_clients = 4;
  c.experiment.dataset = "synthetic";
  c.experiment.model = "mlp";
  return c;
}

TEST(CoordinatorConfigTest, DefaultsAreValid) { EXPECT_TRUE(valid().validate().ok()); }

TEST(CoordinatorConfigTest, EachBadFieldIsNamed) {
  struct Case {
    void (*mutate)(CoordinatorConfig&);
    const char* flag;
  };
  const Case cases[] = {
      {[](CoordinatorConfig& c) { c.experiment.num_clients = 0; }, "--clients"},
      {[](CoordinatorConfig& c) { c.rounds = 0; }, "--rounds"},
      {[](CoordinatorConfig& c) { c.fraction = 0; }, "--fraction"},
      {[](CoordinatorConfig& c) { c.fraction = 1.5; }, "--fraction"},
      {[](CoordinatorConfig& c) { c.min_fit = 5; }, "--min-fit"},
      {[](CoordinatorConfig& c) { c.min_clients = 9; }, "--min-clients"},
      {[](CoordinatorConfig& c) { c.round_timeout_s = 0; }, "--round-timeout"},
      {[](CoordinatorConfig& c) { c.train.lr = -1; }, "--lr"},
      {[](CoordinatorConfig& c) { c.train.lr = std::nan(""); }, "--lr"},
      {[](CoordinatorConfig& c) { c.train.momentum = 1; }, "--momentum"},
      {[](CoordinatorConfig& c) { c.train.batch_size = 0; }, "--batch-size"},
      {[](CoordinatorConfig& c) { c.train.epochs = 0; }, "--epochs"},
      {[](CoordinatorConfig& c) { c.experiment.holdout_fraction = 1; }, "--holdout-fraction"},
      {[](CoordinatorConfig& c) { c.train.augment = "flip"; }, "--augment"},
  };
  for (const auto& tc : cases) {
    CoordinatorConfig c = valid();
    tc.mutate(c);
    Status s = c.validate();
    ASSERT_FALSE(s.ok()) << tc.flag;
    EXPECT_NE(s.message().find(tc.flag), std::string::npos) << s;
  }
}

TEST(CoordinatorConfigTest, JsonCarriesEverySetting) {
  CoordinatorConfig c = valid();
  c.aggregator_options.set("server_lr", "0.5");
  c.experiment.partitioner_options["alpha"] = "0.1";
  auto j = nlohmann::json::parse(to_json(c));
  EXPECT_EQ(j["clients"], 4);
  EXPECT_EQ(j["dataset"], "synthetic");
  EXPECT_EQ(j["aggregator_options"]["server_lr"], "0.5");
  EXPECT_EQ(j["partitioner_options"]["alpha"], "0.1");
  EXPECT_DOUBLE_EQ(j["lr"].get<double>(), 0.01);
  EXPECT_EQ(j["augment"], "none");
}

}  // namespace
}  // namespace flotilla
