#include "algorithms/fed_prox.h"

#include <ATen/ATen.h>

#include <cmath>
#include <span>
#include <vector>

#include "algorithms/averaging_server.h"
#include "algorithms/named_groups.h"
#include "training/local_trainer.h"

namespace flotilla {
namespace {

OptionSpec mu_option() {
  return {"mu", "0.01", "proximal weight mu >= 0: the client adds mu/2 ||w - w_global||^2 to its loss"};
}

StatusOr<double> read_mu(const Options& o) {
  ASSIGN_OR_RETURN(double mu, o.get_double("mu"));
  if (!(mu >= 0) || !std::isfinite(mu))
    return invalid_argument_error("mu must be finite and >= 0, got " + std::to_string(mu));
  return mu;
}

class FedProxClient final : public ClientAlgorithm {
 public:
  explicit FedProxClient(double mu) : mu_(mu) {}

  Status begin(ClientTask& task) override {
    RETURN_IF_ERROR(check_no_extras(std::string("client half '") + kFedProxName + "'", task.server_extras));
    anchor_.clear();
    for (const auto& p : task.parameters) anchor_.push_back(p.detach().clone());
    return Status();
  }
  // The gradient of mu/2 ||w - w0||^2 is added directly rather than through the loss: cheaper,
  // and the same arithmetic as --prox-mu.
  void correct_gradients(std::span<const at::Tensor> parameters) override {
    if (parameters.size() == anchor_.size()) add_proximal_gradient(parameters, anchor_, mu_);
  }
  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    (void)task;
    (void)steps;
    anchor_.clear();
    return ModelState();
  }

 private:
  double mu_;
  std::vector<at::Tensor> anchor_;  // the global weights at begin()
};

}  // namespace

AggregatorRegistry::Entry fedprox_server_entry() {
  return {
      kFedProxName,
      "FedProx (Li et al. 2020): proximal term on the clients, sample-weighted FedAvg on the server",
      {mu_option()},
      [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
        RETURN_IF_ERROR(read_mu(o).status());
        ASSIGN_OR_RETURN(std::string mu, o.get_string("mu"));
        return std::unique_ptr<Aggregator>(new AveragingServer(kFedProxName, ClientHalf{kFedProxName, {{"mu", mu}}}));
      }};
}

ClientAlgorithmRegistry::Entry fedprox_client_entry() {
  return {kFedProxName,
          "FedProx client half: local SGD with the proximal gradient mu (w - w_global)",
          {mu_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
            ASSIGN_OR_RETURN(double mu, read_mu(o));
            return std::unique_ptr<ClientAlgorithm>(new FedProxClient(mu));
          }};
}

}  // namespace flotilla
