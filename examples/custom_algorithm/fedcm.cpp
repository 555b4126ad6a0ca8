// A Flotilla plugin with both halves of an algorithm: FedCM, federated learning with client-level
// momentum (Xu, Wang, Wang and Tian, 2021).
//
// The server keeps a global momentum direction Delta (one tensor per trainable parameter) and
// sends it with every task. Each client steps with
//   v = alpha * g + (1 - alpha) * Delta,   w <- w - lr * v
// so every local step leans towards the direction the whole federation moved last round, which
// holds non-IID clients back from drifting to their own optimum. The server then sets
//   Delta <- sum_k p_k (w - w_k) / (K_k * lr)      (the clients' mean step direction)
//   w     <- w + server_lr * sum_k p_k (w_k - w)   (FedAvg's step)
// with p_k the sample weights and K_k each client's number of local steps (ClientUpdate::steps).
//
// It shows the three things a client half can do: receive extras (Delta travels beside the model
// as frames, counted in the traffic), correct gradients at every step, and be named by its server
// half so that every client runs it. (It keeps no per-client state; see docs/algorithms.md for
// ClientTask::state.) Build against an installed Flotilla, then give the same library to the
// coordinator and every client:
//   flotilla-run --plugin ./libfedcm.so --aggregator fedcm --aggregator-opt alpha=0.1 --momentum 0 ...
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "aggregators/aggregator.h"
#include "core/plugin_api.h"
#include "training/client_algorithm.h"

namespace {

using namespace flotilla;

constexpr const char* kName = "fedcm";
const std::string kPrefix = "delta/";  // the extras' names: delta/<parameter name>

class FedCmServer final : public Aggregator {
 public:
  FedCmServer(std::string alpha, double server_lr) : alpha_(std::move(alpha)), server_lr_(server_lr) {}

  // The global direction is the momentum: a local one on top would amplify Delta tenfold (at 0.9),
  // so a run configured with one is refused here, before round 1.
  Status prepare(const AlgorithmSetup& setup) override {
    if (setup.train.momentum != 0)
      return invalid_argument_error(
          "fedcm replaces local momentum with the global direction: run it with --momentum 0");
    lr_ = setup.train.lr;
    delta_ = ModelState();
    for (const auto& name : setup.trainable) {
      const at::Tensor* w = setup.initial->find(name);
      if (!w || !w->is_floating_point()) return invalid_argument_error("fedcm: trainable '" + name + "' is not float");
      delta_.add(kPrefix + name, at::zeros_like(*w));
    }
    return Status();
  }

  // The client half and its option travel with every task, as strings.
  ClientHalf client_half() const override { return {kName, {{"alpha", alpha_}}}; }
  ModelState task_extras(int) const override { return delta_; }
  // What every update must carry beside the model: nothing (steps come with every update).
  ModelState expected_update_extras() const override { return ModelState(); }

  StatusOr<ModelState> aggregate(const AggregationRound& round) override {
    const ModelState& global = *round.global;
    double total = 0;
    for (const ClientUpdate& u : round.updates) {
      if (u.steps < 1) return invalid_argument_error("fedcm: client " + std::to_string(u.client_id) + " took no steps");
      total += static_cast<double>(u.num_samples);
    }
    if (total <= 0) return invalid_argument_error("fedcm: no samples to weight by");
    ModelState next, direction;
    for (size_t i = 0; i < global.size(); ++i) {
      const at::Tensor& w = global[i].tensor;
      if (!w.is_floating_point()) {  // counters: take the first client's
        next.add(global[i].name, round.updates.front().state[i].tensor.clone());
        continue;
      }
      at::Tensor step = at::zeros_like(w, at::kDouble), dir = at::zeros_like(w, at::kDouble);
      for (const ClientUpdate& u : round.updates) {
        const double p = static_cast<double>(u.num_samples) / total;
        const at::Tensor moved = u.state[i].tensor.to(at::kDouble) - w.to(at::kDouble);
        step.add_(moved, p);
        dir.sub_(moved, p / (static_cast<double>(u.steps) * lr_));
      }
      next.add(global[i].name, (w.to(at::kDouble) + server_lr_ * step).to(w.scalar_type()));
      if (delta_.find(kPrefix + global[i].name)) direction.add(kPrefix + global[i].name, dir.to(w.scalar_type()));
    }
    delta_ = std::move(direction);
    return next;
  }

  // Delta is state: a resumed run must send the same direction it would have.
  ModelState save_state() const override { return delta_.clone(); }
  Status restore_state(const ModelState& state) override {
    if (state.empty()) return Status();  // before round 1
    if (Status same = delta_.check_same_layout(state); !same.ok()) return same.with_context("fedcm state");
    delta_ = state.clone();
    return Status();
  }

 private:
  std::string alpha_;  // as given: the client half reads it with the same checks
  double server_lr_;
  double lr_ = 0;
  ModelState delta_;
};

class FedCmClient final : public ClientAlgorithm {
 public:
  explicit FedCmClient(double alpha) : alpha_(alpha) {}

  // Delta must match the parameters one for one; anything else fails this task, not the process.
  Status begin(ClientTask& task) override {
    delta_.clear();
    const ModelState& extras = *task.server_extras;
    if (extras.size() != task.parameters.size())
      return invalid_argument_error("fedcm: " + std::to_string(extras.size()) + " extras for " +
                                    std::to_string(task.parameters.size()) + " parameters");
    for (size_t k = 0; k < task.parameters.size(); ++k) {
      const at::Tensor& d = extras[k].tensor;
      if (extras[k].name != kPrefix + task.parameter_names[k] || d.sizes() != task.parameters[k].sizes())
        return invalid_argument_error("fedcm: extra '" + extras[k].name + "' does not match parameter '" +
                                      task.parameter_names[k] + "'");
      delta_.push_back(d.to(task.parameters[k].device(), task.parameters[k].scalar_type()));
    }
    return Status();
  }

  void correct_gradients(std::span<const at::Tensor> parameters) override {
    for (size_t k = 0; k < parameters.size(); ++k) {
      at::Tensor g = parameters[k].grad();
      if (g.defined()) g.mul_(alpha_).add_(delta_[k], 1 - alpha_);
    }
  }

  StatusOr<ModelState> finish(ClientTask&, int64_t) override {
    delta_.clear();
    return ModelState();
  }

 private:
  double alpha_;
  std::vector<at::Tensor> delta_;
};

StatusOr<double> read_alpha(const Options& options) {
  ASSIGN_OR_RETURN(double alpha, options.get_double("alpha"));
  if (!(alpha > 0 && alpha <= 1)) return invalid_argument_error("fedcm: alpha must be in (0, 1]");
  return alpha;
}

}  // namespace

FLOTILLA_PLUGIN(registrar) {
  const OptionSpec alpha{"alpha", "0.1", "weight of the local gradient; 1 - alpha goes to the global momentum"};
  RETURN_IF_ERROR(registrar.aggregators->add(
      {kName,
       "FedCM: client-level momentum (Xu et al. 2021), example plugin with a client half",
       {alpha, {"server_lr", "1.0", "server learning rate on the averaged update"}},
       [](const Options& options) -> StatusOr<std::unique_ptr<Aggregator>> {
         RETURN_IF_ERROR(read_alpha(options).status());
         ASSIGN_OR_RETURN(double server_lr, options.get_double("server_lr"));
         if (!(server_lr > 0)) return invalid_argument_error("fedcm: server_lr must be > 0");
         return std::unique_ptr<Aggregator>(new FedCmServer(*options.get_string("alpha"), server_lr));
       }}));
  return registrar.client_algorithms->add({kName,
                                           "FedCM client half: steps along alpha * g + (1 - alpha) * Delta",
                                           {alpha},
                                           [](const Options& options) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
                                             ASSIGN_OR_RETURN(double a, read_alpha(options));
                                             return std::unique_ptr<ClientAlgorithm>(new FedCmClient(a));
                                           }});
}
