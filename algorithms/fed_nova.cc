#include "algorithms/fed_nova.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/weighted_average.h"
#include "algorithms/named_groups.h"

namespace flotilla {
namespace {

constexpr const char* kExtra = "fednova/a";

ModelState extras_layout() {
  ModelState s;
  s.add(kExtra, at::zeros({}, at::TensorOptions().dtype(at::kDouble)));
  return s;
}

// What p_i, a client's share of the average, is proportional to: its samples (FedNova's paper), or
// its local steps (NIID-Bench's FedNova weighs by len(train_dataloader), the batches of an epoch;
// with the same epochs everywhere, steps are proportional to those).
enum class FedNovaWeights { kSamples, kSteps };

class FedNovaServer final : public Aggregator {
 public:
  FedNovaServer(double server_lr, FedNovaWeights weights) : server_lr_(server_lr), weights_(weights) {}

  ClientHalf client_half() const override { return ClientHalf{kFedNovaName, {}}; }
  ModelState expected_update_extras() const override { return extras_layout(); }

  // The coordinator rejects such an update for its round; aggregate() checks again for callers
  // that do not (the least-squares oracle, tests).
  Status check_update(const ClientUpdate& u) const override {
    RETURN_IF_ERROR(check_update_extras(kFedNovaName, u, extras_layout()));
    const double a_i = u.extras[0].tensor.item<double>();
    if (!(a_i > 0) || !std::isfinite(a_i))
      return invalid_argument_error(std::string(kFedNovaName) + ": client " + std::to_string(u.client_id) +
                                    " reported a step norm a = " + std::to_string(a_i) + ", expected finite and > 0");
    if (weights_ == FedNovaWeights::kSteps && u.steps < 1)
      return invalid_argument_error(std::string(kFedNovaName) + " weights=steps: client " +
                                    std::to_string(u.client_id) + " reported " + std::to_string(u.steps) +
                                    " local steps, expected at least 1");
    return Status();
  }

  StatusOr<ModelState> aggregate(const AggregationRound& round) override {
    double total = 0;
    std::vector<double> a, weight;
    for (const auto& u : round.updates) {
      RETURN_IF_ERROR(check_update(u));
      a.push_back(u.extras[0].tensor.item<double>());
      weight.push_back(static_cast<double>(weights_ == FedNovaWeights::kSteps ? u.steps : u.num_samples));
      total += weight.back();
    }
    // Also checks the sample weights (negative, all zero) and averages the integer and bool
    // entries by them.
    ASSIGN_OR_RETURN(ModelState next, weighted_average(round.updates));
    double tau_eff = 0;
    for (size_t i = 0; i < a.size(); ++i) tau_eff += weight[i] / total * a[i];
    const ModelState& global = *round.global;
    for (size_t k = 0; k < global.size(); ++k) {
      const at::Tensor& x = global[k].tensor;
      if (!x.is_floating_point()) continue;
      const at::Tensor x64 = x.to(at::kDouble);
      at::Tensor d = at::zeros(x.sizes(), x64.options());
      for (size_t i = 0; i < a.size(); ++i) {
        const double p = weight[i] / total;
        d.add_((x64 - round.updates[i].state[k].tensor.to(at::kDouble)) / a[i], p);
      }
      next.mutable_entries()[k].tensor = (x64 - server_lr_ * tau_eff * d).to(x.scalar_type());
    }
    return next;
  }

  ModelState save_state() const override { return ModelState(); }
  Status restore_state(const ModelState& state) override { return check_stateless(kFedNovaName, state); }

 private:
  double server_lr_;
  FedNovaWeights weights_;
};

class FedNovaClient final : public ClientAlgorithm {
 public:
  Status begin(ClientTask& task) override {
    return check_no_extras(std::string("client half '") + kFedNovaName + "'", task.server_extras);
  }
  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    const std::string who = std::string("client half '") + kFedNovaName + "'";
    if (steps < 1) return invalid_argument_error(who + ": no local steps were taken");
    if (task.config == nullptr) return invalid_argument_error(who + ": the task has no training config");
    const double rho = task.config->momentum;
    if (!(rho >= 0 && rho < 1))
      return invalid_argument_error(who + ": momentum must be in [0, 1), got " + std::to_string(rho));
    ModelState extras;
    extras.add(kExtra, at::scalar_tensor(fednova_step_norm(steps, rho), at::TensorOptions().dtype(at::kDouble)));
    return extras;
  }
};

}  // namespace

double fednova_step_norm(int64_t steps, double rho) {
  const double tau = static_cast<double>(steps);
  if (rho == 0) return tau;
  // Sum over the tau steps of each step's total weight, (1 - rho^t) / (1 - rho), in closed form.
  return (tau - rho * (1 - std::pow(rho, tau)) / (1 - rho)) / (1 - rho);
}

AggregatorRegistry::Entry fednova_server_entry() {
  return {kFedNovaName,
          "FedNova (Wang et al. 2020): averages updates normalised by each client's local step count",
          {{"server_lr", "1.0", "server step: x <- x - server_lr * tau_eff * sum_i p_i (x - y_i) / a_i"},
           {"weights", "samples",
            "p_i proportional to: samples (the paper) | steps (each client's local steps; NIID-Bench weighs by "
            "batches per epoch)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double lr, read_positive(o, "server_lr"));
            ASSIGN_OR_RETURN(std::string weights, o.get_string("weights"));
            if (weights != "samples" && weights != "steps")
              return invalid_argument_error("fednova: weights must be samples or steps, got '" + weights + "'");
            return std::unique_ptr<Aggregator>(
                new FedNovaServer(lr, weights == "steps" ? FedNovaWeights::kSteps : FedNovaWeights::kSamples));
          }};
}

ClientAlgorithmRegistry::Entry fednova_client_entry() {
  return {kFedNovaName,
          "FedNova client half: local SGD; sends its step norm a_i",
          {},
          [](const Options&) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
            return std::unique_ptr<ClientAlgorithm>(new FedNovaClient());
          }};
}

}  // namespace flotilla
