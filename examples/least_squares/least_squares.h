// Federated least squares: an oracle for aggregation. A synthetic linear regression y = A x + noise
// is split over clients; each round every client runs full-batch gradient descent on its own rows
// from the global x, and an Aggregator combines the results. With one local step and FedAvg this
// is exactly gradient descent on the whole problem, so x converges to the closed-form solution
// x* = (A^T A)^-1 A^T y: a wrong aggregator cannot hide.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla::examples {

struct LeastSquaresOptions {
  int clients = 5;
  int rows_per_client = 40;  // client k holds rows_per_client * (k + 1) rows: unequal weights
  // Every client holds rows_per_client rows instead. Algorithms that average something uniformly
  // over the clients (SCAFFOLD's c) converge to the minimiser of the clients' unweighted mean
  // objective, which is x* only when the clients weigh the same.
  bool equal_rows = false;
  int dims = 8;
  double noise = 0.1;
  double shift = 0.5;  // client k's features are shifted by shift * k: the split is not IID
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

// The same with a whole algorithm: `aggregator` is its server half and `client` its client half
// (the one aggregator.client_half() names). The oracle plays the host: prepare() once (N = clients,
// trainable {"x"}, lr = options.lr, momentum 0), the server's task_extras() to every client, one
// client state per client kept across rounds, and each update's extras checked against
// expected_update_extras(). Each local step adds the client half's loss term's gradient (autograd)
// and correct_gradients() to the hand-computed least-squares gradient before x -= lr * grad, and
// after_step() after it.
// A null `client` is the plain run above.
StatusOr<LeastSquaresRun> run_federated_least_squares(const LeastSquaresOptions& options, Aggregator& aggregator,
                                                      ClientAlgorithm* client);

}  // namespace flotilla::examples
