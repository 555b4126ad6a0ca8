// Federated least squares: an oracle for aggregation. A synthetic linear regression y = A x + noise
// is split over clients; each round every client runs full-batch gradient descent on its own rows
// from the global x, and an Aggregator combines the results. With one local step and FedAvg this
// is exactly gradient descent on the whole problem, so x converges to the closed-form solution
// x* = (A^T A)^-1 A^T y: a wrong aggregator cannot hide.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "aggregators/aggregator.h"

namespace flotilla::examples {

struct LeastSquaresOptions {
  int clients = 5;
  int rows_per_client = 40;  // client k holds rows_per_client * (k + 1) rows: unequal weights
  int dims = 8;
  double noise = 0.1;
  int rounds = 200;
  int local_steps = 1;  // full-batch GD steps per round
  double lr = 0.05;
  uint64_t seed = 0;
};

struct LeastSquaresRun {
  std::vector<double> distance;  // ||x_r - x*|| / ||x*|| after each round
  at::Tensor solution;           // x*
  at::Tensor final_x;
};

StatusOr<LeastSquaresRun> run_federated_least_squares(const LeastSquaresOptions& options, Aggregator& aggregator);

}  // namespace flotilla::examples
