#include "least_squares.h"

#include <ATen/ATen.h>

namespace flotilla::examples {

StatusOr<LeastSquaresRun> run_federated_least_squares(const LeastSquaresOptions& o, Aggregator& aggregator) {
  at::manual_seed(static_cast<int64_t>(o.seed));
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor x_true = at::randn({o.dims, 1}, f64);
  std::vector<at::Tensor> a_parts, y_parts;
  for (int k = 0; k < o.clients; ++k) {
    const int64_t rows = static_cast<int64_t>(o.rows_per_client) * (k + 1);
    // Each client's features are shifted differently: the split is not IID.
    at::Tensor a = at::randn({rows, o.dims}, f64) + 0.5 * k;
    a_parts.push_back(a);
    y_parts.push_back(a.matmul(x_true) + o.noise * at::randn({rows, 1}, f64));
  }
  const at::Tensor a_all = at::cat(a_parts), y_all = at::cat(y_parts);
  LeastSquaresRun run;
  run.solution = at::linalg_solve(a_all.t().matmul(a_all), a_all.t().matmul(y_all));
  const double solution_norm = run.solution.norm().item<double>();

  ModelState global;
  global.add("x", at::zeros({o.dims, 1}, f64));
  for (int round = 1; round <= o.rounds; ++round) {
    std::vector<ClientUpdate> updates;
    for (int k = 0; k < o.clients; ++k) {
      at::Tensor x = global[0].tensor.clone();
      for (int step = 0; step < o.local_steps; ++step) {
        // Gradient of the client's own mean squared error / 2: (1/n_k) A_k^T (A_k x - y_k). Weighted
        // by n_k, the clients' gradients sum to the gradient of the whole problem.
        const at::Tensor& a = a_parts[k];
        const double n_k = static_cast<double>(a.size(0));
        x = x - o.lr * a.t().matmul(a.matmul(x) - y_parts[k]) / n_k;
      }
      ClientUpdate u;
      u.client_id = k;
      u.num_samples = a_parts[k].size(0);
      u.state.add("x", x);
      updates.push_back(std::move(u));
    }
    ASSIGN_OR_RETURN(ModelState next, aggregator.aggregate({round, &global, updates, {}}));
    global = std::move(next);
    run.distance.push_back((global[0].tensor - run.solution).norm().item<double>() / solution_norm);
  }
  run.final_x = global[0].tensor;
  return run;
}

}  // namespace flotilla::examples
