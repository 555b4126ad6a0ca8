// The client half of FedDyn (fed_dyn.h): the linear and quadratic penalty, and the new g_i.
#include <ATen/ATen.h>

#include <vector>

#include "aggregators/option_checks.h"
#include "algorithms/fed_dyn.h"
#include "algorithms/named_groups.h"

namespace flotilla {
namespace {

class FedDynClient final : public ClientAlgorithm {
 public:
  explicit FedDynClient(double alpha) : alpha_(alpha) {}

  Status begin(ClientTask& task) override {
    const std::string who = std::string("client half '") + kFedDynName + "'";
    RETURN_IF_ERROR(check_no_extras(who, task.server_extras));
    if (task.parameter_names.size() != task.parameters.size())
      return invalid_argument_error(who + ": " + std::to_string(task.parameter_names.size()) + " names for " +
                                    std::to_string(task.parameters.size()) + " parameters");
    static const ModelState kEmpty;
    ASSIGN_OR_RETURN(grad_, read_group(who + " state", task.state ? *task.state : kEmpty, "grad", task.parameter_names,
                                       task.parameters));
    // The live tensors: loss_term() differentiates through them.
    params_ = task.parameters;
    prev_.clear();
    for (const auto& p : task.parameters) prev_.push_back(p.detach().clone());
    return Status();
  }

  at::Tensor loss_term(const TrainingStep& step) override {
    (void)step;
    at::Tensor total;
    for (size_t k = 0; k < params_.size(); ++k) {
      const at::Tensor& theta = params_[k];
      at::Tensor term = (theta - prev_[k]).square().sum() * (alpha_ / 2) - (grad_[k] * theta).sum();
      total = total.defined() ? total + term : term;
    }
    return total;
  }

  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    (void)steps;
    const std::string who = std::string("client half '") + kFedDynName + "'";
    if (task.state == nullptr) return invalid_argument_error(who + ": the task has no client state");
    if (grad_.size() != task.parameters.size())
      return failed_precondition_error(who + ": finish() without a successful begin()");
    std::vector<at::Tensor> next;
    for (size_t k = 0; k < task.parameters.size(); ++k)
      next.push_back(grad_[k] - alpha_ * (task.parameters[k].detach() - prev_[k]));
    *task.state = make_group("grad", task.parameter_names, next);
    params_.clear();
    prev_.clear();
    grad_.clear();
    return ModelState();
  }

 private:
  double alpha_;
  std::vector<at::Tensor> params_;  // the live parameters being trained
  std::vector<at::Tensor> prev_;    // theta_prev: the parameters at begin() (the global model)
  std::vector<at::Tensor> grad_;    // g_i
};

}  // namespace

ClientAlgorithmRegistry::Entry feddyn_client_entry() {
  return {kFedDynName,
          "FedDyn client half: loss - <g_i, theta> + alpha/2 ||theta - theta_prev||^2; keeps g_i",
          {feddyn_alpha_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
            ASSIGN_OR_RETURN(double alpha, read_positive(o, "alpha"));
            return std::unique_ptr<ClientAlgorithm>(new FedDynClient(alpha));
          }};
}

}  // namespace flotilla
