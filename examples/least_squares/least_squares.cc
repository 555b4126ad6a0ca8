#include "least_squares.h"

#include <ATen/ATen.h>

namespace flotilla::examples {
namespace {

// One client's local steps as plain full-batch GD: what the oracle has always run.
at::Tensor plain_local_steps(const LeastSquaresOptions& o, const at::Tensor& start, const at::Tensor& a,
                             const at::Tensor& y) {
  at::Tensor x = start.clone();
  for (int step = 0; step < o.local_steps; ++step) {
    // Gradient of the client's own mean squared error / 2: (1/n_k) A_k^T (A_k x - y_k). Weighted
    // by n_k, the clients' gradients sum to the gradient of the whole problem.
    const double n_k = static_cast<double>(a.size(0));
    x = x - o.lr * a.t().matmul(a.matmul(x) - y) / n_k;
  }
  return x;
}

// What a task of one round brings one client.
struct OracleTask {
  int round = 0;
  int client = 0;
  const TrainConfig* config = nullptr;
  const ModelState* global = nullptr;
  const ModelState* server_extras = nullptr;
  const ModelState* expected_extras = nullptr;
};

// The same steps through a client half, as a host would run them; fills `update`.
Status algorithm_local_steps(const LeastSquaresOptions& o, const OracleTask& t, ModelState& client_state,
                             const at::Tensor& a, const at::Tensor& y, ClientAlgorithm& client, ClientUpdate& update) {
  const std::string who = "client " + std::to_string(t.client);
  // x requires grad only so that a loss term (FedDyn's) can be differentiated; the least-squares
  // gradient itself is computed by hand, and the step is taken on x's data, outside autograd.
  at::Tensor x = (*t.global)[0].tensor.clone().set_requires_grad(true);
  ClientTask task;
  task.client_id = t.client;
  task.round = t.round;
  task.config = t.config;
  task.num_samples = a.size(0);
  task.global = t.global;
  task.server_extras = t.server_extras;
  task.state = &client_state;
  task.parameter_names = {"x"};
  task.parameters = {x};
  RETURN_IF_ERROR(client.begin(task).with_context(who));
  const double n_k = static_cast<double>(a.size(0));
  for (int step = 0; step < o.local_steps; ++step) {
    const at::Tensor data = x.detach();  // shares x's storage
    x.mutable_grad() = a.t().matmul(a.matmul(data) - y) / n_k;
    const TrainingStep training_step{nullptr, &a, &y, nullptr, nullptr, step};
    at::Tensor term = client.loss_term(training_step);
    if (term.defined()) term.backward();  // accumulates into x.grad()
    client.correct_gradients(task.parameters);
    data.sub_(x.grad(), o.lr);
    client.after_step(task.parameters);
  }
  ASSIGN_OR_RETURN(ModelState extras, client.finish(task, o.local_steps));
  // What the coordinator checks before it accepts an update.
  RETURN_IF_ERROR(t.expected_extras->check_same_layout(extras).with_context(who + " extras"));
  RETURN_IF_ERROR(extras.check_finite().with_context(who + " extras"));
  update.client_id = t.client;
  update.num_samples = a.size(0);
  update.state.add("x", x.detach().clone());
  update.steps = o.local_steps;
  update.extras = std::move(extras);
  return Status();
}

}  // namespace

StatusOr<LeastSquaresRun> run_federated_least_squares(const LeastSquaresOptions& o, Aggregator& aggregator) {
  return run_federated_least_squares(o, aggregator, nullptr);
}

StatusOr<LeastSquaresRun> run_federated_least_squares(const LeastSquaresOptions& o, Aggregator& aggregator,
                                                      ClientAlgorithm* client) {
  at::manual_seed(static_cast<int64_t>(o.seed));
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor x_true = at::randn({o.dims, 1}, f64);
  std::vector<at::Tensor> a_parts, y_parts;
  for (int k = 0; k < o.clients; ++k) {
    const int64_t rows = static_cast<int64_t>(o.rows_per_client) * (o.equal_rows ? 1 : k + 1);
    // Each client's features are shifted differently: the split is not IID.
    at::Tensor a = at::randn({rows, o.dims}, f64) + o.shift * k;
    a_parts.push_back(a);
    y_parts.push_back(a.matmul(x_true) + o.noise * at::randn({rows, 1}, f64));
  }
  const at::Tensor a_all = at::cat(a_parts), y_all = at::cat(y_parts);
  LeastSquaresRun run;
  run.solution = at::linalg_solve(a_all.t().matmul(a_all), a_all.t().matmul(y_all));
  const double solution_norm = run.solution.norm().item<double>();

  ModelState global;
  global.add("x", at::zeros({o.dims, 1}, f64));
  TrainConfig config;
  config.lr = o.lr;
  config.momentum = 0;
  std::vector<ModelState> client_states(static_cast<size_t>(o.clients));
  if (client) RETURN_IF_ERROR(aggregator.prepare({o.clients, &global, {"x"}, config}));
  for (int round = 1; round <= o.rounds; ++round) {
    const ModelState server_extras = client ? aggregator.task_extras(round) : ModelState();
    const ModelState expected_extras = client ? aggregator.expected_update_extras() : ModelState();
    std::vector<ClientUpdate> updates;
    for (int k = 0; k < o.clients; ++k) {
      ClientUpdate u;
      if (client) {
        const OracleTask task{round, k, &config, &global, &server_extras, &expected_extras};
        RETURN_IF_ERROR(algorithm_local_steps(o, task, client_states[k], a_parts[k], y_parts[k], *client, u));
      } else {
        u.client_id = k;
        u.num_samples = a_parts[k].size(0);
        u.state.add("x", plain_local_steps(o, global[0].tensor, a_parts[k], y_parts[k]));
        u.steps = o.local_steps;
      }
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
