// BackgroundEvaluator: the accuracy it reports is evaluate()'s on a copy of the same weights; on
// the CPU it borrows the evaluated state's tensors and gives them back (the coordinator frees an
// old global model once it drops it), and a state of another layout is an error naming the tensor.
#include "coordinator/background_evaluator.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <future>

#include "models/model_registry.h"

namespace flotilla {
namespace {

TensorDataset test_set() {
  at::manual_seed(3);
  TensorDataset data;
  data.images = at::randn({64, 1, 12, 12});
  data.labels = at::randint(0, 10, {64}, at::kLong);
  return data;
}

std::shared_ptr<Model> mlp(uint64_t seed) {
  at::manual_seed(seed);
  auto model = create_model("mlp", ModelSpec{1, 12, 12, 10});
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

TEST(BackgroundEvaluatorTest, ReportsWhatEvaluateGivesOnACopyOfTheWeights) {
  const ModelState state = model_state(*mlp(11)).clone();
  auto reference_model = mlp(12);
  ASSERT_TRUE(load_model_state(*reference_model, state).ok());
  // On a thread of its own, as the evaluator runs: a fresh thread's OpenMP team can differ from the
  // main thread's, and with it the order of BLAS sums (seen on AMD EPYC with OpenBLAS).
  auto reference =
      std::async(std::launch::async, [&] { return evaluate(*reference_model, test_set(), c10::kCPU, 16); }).get();
  ASSERT_TRUE(reference.ok()) << reference.status();

  BackgroundEvaluator evaluator(mlp(13), test_set(), c10::kCPU, 16);
  for (int repeat = 0; repeat < 2; ++repeat) {
    evaluator.start(state);
    auto result = evaluator.wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->eval.accuracy, reference->accuracy);
    EXPECT_EQ(result->eval.loss, reference->loss);
    EXPECT_EQ(result->eval.num_samples, 64);
  }
}

TEST(BackgroundEvaluatorTest, BorrowsTheStateAndGivesItBack) {
  ModelState state = model_state(*mlp(21)).clone();
  const at::Tensor first = state[0].tensor;
  const auto users_before = first.storage().use_count();
  BackgroundEvaluator evaluator(mlp(22), test_set(), c10::kCPU, 16);
  evaluator.start(state);
  ASSERT_TRUE(evaluator.wait().ok());
  EXPECT_EQ(first.storage().use_count(), users_before) << "the evaluator still holds the evaluated weights";
  EXPECT_TRUE(at::equal(first, model_state(*mlp(21))[0].tensor)) << "evaluation changed the weights";
}

TEST(BackgroundEvaluatorTest, StateOfAnotherLayoutIsAnErrorNamingTheTensor) {
  BackgroundEvaluator evaluator(mlp(31), test_set(), c10::kCPU, 16);
  ModelState wrong = model_state(*mlp(31)).clone();
  wrong.mutable_entries()[0].tensor = at::zeros({3, 3});
  evaluator.start(wrong);
  auto result = evaluator.wait();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(wrong[0].name), std::string::npos) << result.status();
  // And the next evaluation still works.
  evaluator.start(model_state(*mlp(31)).clone());
  EXPECT_TRUE(evaluator.wait().ok());
}

}  // namespace
}  // namespace flotilla
