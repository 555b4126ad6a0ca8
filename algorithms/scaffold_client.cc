// The client half of SCAFFOLD (scaffold.h): the corrected gradient g + c - c_i and the new c_i.
#include <ATen/ATen.h>

#include <span>
#include <vector>

#include "algorithms/named_groups.h"
#include "algorithms/scaffold.h"

namespace flotilla {
namespace {

class ScaffoldClient final : public ClientAlgorithm {
 public:
  Status begin(ClientTask& task) override {
    const std::string who = std::string("client half '") + kScaffoldName + "'";
    if (task.parameter_names.size() != task.parameters.size())
      return invalid_argument_error(who + ": " + std::to_string(task.parameter_names.size()) + " names for " +
                                    std::to_string(task.parameters.size()) + " parameters");
    if (task.server_extras == nullptr)
      return invalid_argument_error(who + ": the task carries no server control variate");
    RETURN_IF_ERROR(
        check_group(who + " server extras", *task.server_extras, "c", task.parameter_names, task.parameters));
    static const ModelState kEmpty;
    ASSIGN_OR_RETURN(c_i_, read_group(who + " state", task.state ? *task.state : kEmpty, "c_i", task.parameter_names,
                                      task.parameters));
    if (task.config == nullptr || !(task.config->lr > 0))
      return invalid_argument_error(who + ": needs the training config's lr > 0");
    lr_ = task.config->lr;
    c_.clear();
    correction_.clear();
    for (size_t k = 0; k < task.parameters.size(); ++k) {
      c_.push_back((*task.server_extras)[k].tensor.to(task.parameters[k].device()));
      correction_.push_back(c_[k] - c_i_[k]);
    }
    return Status();
  }

  // After each optimizer step, w <- w - lr (c - c_i): with plain SGD this is the paper's step
  // along g + c - c_i, and with momentum the correction is not amplified by it (as in NIID-Bench's
  // and Flower's SCAFFOLD; added to the gradient under momentum 0.9 it diverges).
  void after_step(std::span<const at::Tensor> parameters) override {
    for (size_t k = 0; k < parameters.size() && k < correction_.size(); ++k)
      parameters[k].detach().sub_(correction_[k], lr_);
  }

  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    const std::string who = std::string("client half '") + kScaffoldName + "'";
    if (steps < 1) return invalid_argument_error(who + ": no local steps were taken, c_i cannot be updated");
    if (task.config == nullptr || !(task.config->lr > 0))
      return invalid_argument_error(who + ": needs the training config's lr > 0");
    if (task.global == nullptr || task.state == nullptr)
      return invalid_argument_error(who + ": the task has no global model or no client state");
    if (c_i_.size() != task.parameters.size())
      return failed_precondition_error(who + ": finish() without a successful begin()");
    const double scale = 1.0 / (static_cast<double>(steps) * task.config->lr);
    std::vector<at::Tensor> c_plus, delta;
    for (size_t k = 0; k < task.parameters.size(); ++k) {
      const at::Tensor* x = task.global->find(task.parameter_names[k]);
      if (x == nullptr)
        return invalid_argument_error(who + ": the global model has no '" + task.parameter_names[k] + "'");
      const at::Tensor y = task.parameters[k].detach();
      // Option II: c_i+ = c_i - c + (x - y) / (K lr).
      at::Tensor next = c_i_[k] - c_[k] + (x->to(y.device()) - y) * scale;
      delta.push_back(next - c_i_[k]);
      c_plus.push_back(std::move(next));
    }
    *task.state = make_group("c_i", task.parameter_names, c_plus);
    c_.clear();
    c_i_.clear();
    correction_.clear();
    return make_group("delta_c", task.parameter_names, delta);
  }

 private:
  std::vector<at::Tensor> c_;           // the server's control variate, on the parameters' device
  std::vector<at::Tensor> c_i_;         // this client's, from its previous task
  std::vector<at::Tensor> correction_;  // c - c_i, stepped along after every optimizer step
  double lr_ = 0;
};

}  // namespace

ClientAlgorithmRegistry::Entry scaffold_client_entry() {
  return {kScaffoldName,
          "SCAFFOLD client half: gradients corrected by c - c_i; sends delta_c (option II)",
          {},
          [](const Options&) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
            return std::unique_ptr<ClientAlgorithm>(new ScaffoldClient());
          }};
}

}  // namespace flotilla
