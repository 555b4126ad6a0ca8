#include "training/local_trainer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/model_registry.h"
#include "tests/support/model_states.h"

namespace flotilla {
namespace {

using test_states::same_state;

TensorDataset small_images() {
  at::manual_seed(0);
  TensorDataset d;
  d.images = at::randn({48, 1, 8, 8});
  d.labels = d.images.flatten(1).sum(1).gt(0).to(at::kLong);
  d.num_classes = 2;
  return d;
}

// Trains a fresh, identically initialised mlp and returns its final state.
ModelState train(const TrainConfig& config, uint64_t seed) {
  at::manual_seed(1);
  auto model = create_model("mlp", {1, 8, 8, 2});
  EXPECT_TRUE(model.ok()) << model.status();
  auto result = train_local(**model, small_images(), config, at::kCPU, seed);
  EXPECT_TRUE(result.ok()) << result.status();
  return model_state(**model).clone();
}

TEST(LocalTrainerTest, AugmentedTrainingIsReproducibleAndDiffersFromPlain) {
  TrainConfig config;
  config.batch_size = 16;
  config.augment = "crop_flip";
  const ModelState a = train(config, 5);
  EXPECT_TRUE(same_state(a, train(config, 5)));
  EXPECT_FALSE(same_state(a, train(config, 6)));
  config.augment = "none";
  EXPECT_FALSE(same_state(a, train(config, 5)));
}

TEST(LocalTrainerTest, UnknownAugmentationIsRejected) {
  auto model = create_model("mlp", {1, 8, 8, 2});
  ASSERT_TRUE(model.ok());
  TrainConfig config;
  config.augment = "mixup";
  auto result = train_local(**model, small_images(), config, at::kCPU, 0);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("mixup"), std::string::npos);
}

}  // namespace
}  // namespace flotilla
