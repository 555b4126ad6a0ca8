// Federated least squares as an oracle: FedAvg with one full-batch gradient step per round is
// gradient descent on the whole problem, so it must reach the closed-form solution.
#include "least_squares.h"

#include <gtest/gtest.h>

namespace flotilla::examples {
namespace {

std::unique_ptr<Aggregator> make(const std::string& name) {
  AggregatorRegistry registry("aggregator");
  FLOTILLA_CHECK(register_builtin_aggregators(registry).ok());
  auto a = registry.create(name);
  FLOTILLA_CHECK(a.ok()) << a.status();
  return std::move(a).value();
}

TEST(LeastSquaresTest, FedAvgWithOneLocalStepReachesTheClosedFormSolution) {
  LeastSquaresOptions options;
  options.rounds = 400;
  auto run = run_federated_least_squares(options, *make("fedavg"));
  ASSERT_TRUE(run.ok()) << run.status();
  // Gradient descent converges linearly; after 400 steps at lr 0.05 the relative error is far
  // below 1e-6 on this well-conditioned problem.
  EXPECT_LT(run->distance.back(), 1e-6);
  // And it got there monotonically from a distant start.
  EXPECT_GT(run->distance.front(), 0.1);
}

TEST(LeastSquaresTest, ManyLocalStepsOnNonIidDataStopShortOfTheSolution) {
  // Client drift: with 20 local steps on shifted features FedAvg converges to a different fixed
  // point. The oracle detects it: the gap stays well above the one-step run's.
  LeastSquaresOptions options;
  options.local_steps = 20;
  options.rounds = 200;
  auto run = run_federated_least_squares(options, *make("fedavg"));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_GT(run->distance.back(), 1e-4);
  EXPECT_LT(run->distance.back(), 0.5);
}

}  // namespace
}  // namespace flotilla::examples
