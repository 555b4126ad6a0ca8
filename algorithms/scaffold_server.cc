// The server half of SCAFFOLD (scaffold.h): the model step and the server control variate c.
#include <ATen/ATen.h>

#include <vector>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/server_step.h"
#include "aggregators/weighted_average.h"
#include "algorithms/named_groups.h"
#include "algorithms/scaffold.h"

namespace flotilla {
namespace {

class ScaffoldServer final : public Aggregator {
 public:
  explicit ScaffoldServer(double server_lr) : server_lr_(server_lr) {}

  Status prepare(const AlgorithmSetup& setup) override {
    std::vector<std::string> names;
    std::vector<at::Tensor> like;
    RETURN_IF_ERROR(read_trainable(kScaffoldName, setup, &names, &like));
    names_ = std::move(names);
    num_clients_ = setup.num_clients;
    c_ = ModelState();
    for (size_t k = 0; k < names_.size(); ++k) c_.add(names_[k], at::zeros_like(like[k]).to(at::kCPU));
    return Status();
  }

  ClientHalf client_half() const override { return ClientHalf{kScaffoldName, {}}; }

  ModelState task_extras(int round) const override {
    (void)round;
    return make_group("c", names_, tensors(c_));
  }

  // c's layout (its values are not read).
  ModelState expected_update_extras() const override { return make_group("delta_c", names_, tensors(c_)); }

  StatusOr<ModelState> aggregate(const AggregationRound& round) override {
    if (num_clients_ < 1)
      return failed_precondition_error(std::string(kScaffoldName) + " was not prepared (no AlgorithmSetup)");
    ASSIGN_OR_RETURN(ModelState trainable, trainable_of(*round.global));
    RETURN_IF_ERROR(check_state_fits_model(kScaffoldName, "c", trainable, c_));
    const ModelState expected = expected_update_extras();
    for (const auto& u : round.updates) RETURN_IF_ERROR(check_update_extras(kScaffoldName, u, expected));
    ASSIGN_OR_RETURN(ModelState average, weighted_average(round.updates));
    ModelState next = apply_server_lr(*round.global, std::move(average), server_lr_);
    // c moves by the sum of the participants' delta_c over all N clients: clients that sat the
    // round out count as delta_c = 0 (the paper's (1/N) sum over S).
    for (size_t k = 0; k < c_.size(); ++k) {
      at::Tensor& c = c_.mutable_entries()[k].tensor;
      at::Tensor sum = at::zeros(c.sizes(), c.options().dtype(at::kDouble));
      for (const auto& u : round.updates) sum.add_(u.extras[k].tensor.to(at::kCPU, at::kDouble));
      c = (c.to(at::kDouble) + sum / static_cast<double>(num_clients_)).to(c.scalar_type());
    }
    return next;
  }

  ModelState save_state() const override { return join_state_groups({{"c", &c_}}); }

  Status restore_state(const ModelState& state) override {
    return restore_parameter_group(kScaffoldName, "c", state, &c_);
  }

 private:
  static std::vector<at::Tensor> tensors(const ModelState& s) {
    std::vector<at::Tensor> out;
    for (const auto& e : s.entries()) out.push_back(e.tensor);
    return out;
  }
  // The global model's trainable entries, as the layout c must have.
  StatusOr<ModelState> trainable_of(const ModelState& global) const {
    ModelState out;
    for (const auto& name : names_) {
      const at::Tensor* t = global.find(name);
      if (t == nullptr)
        return invalid_argument_error(std::string(kScaffoldName) + ": the global model has no parameter '" + name +
                                      "'");
      out.add(name, *t);
    }
    return out;
  }

  double server_lr_;
  int num_clients_ = 0;
  std::vector<std::string> names_;  // trainable parameters, in model order
  ModelState c_;                    // the server control variate, on the CPU
};

}  // namespace

AggregatorRegistry::Entry scaffold_server_entry() {
  return {kScaffoldName,
          "SCAFFOLD (Karimireddy et al. 2020), option II: control variates against client drift",
          {{"server_lr", "1.0", "global step size eta_g: x <- x + eta_g * sum_i p_i (y_i - x)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double lr, read_positive(o, "server_lr"));
            return std::unique_ptr<Aggregator>(new ScaffoldServer(lr));
          }};
}

}  // namespace flotilla
