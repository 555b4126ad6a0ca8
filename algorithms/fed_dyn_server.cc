// The server half of FedDyn (fed_dyn.h): the state h and the corrected mean.
#include <ATen/ATen.h>

#include <vector>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/weighted_average.h"
#include "algorithms/fed_dyn.h"
#include "algorithms/named_groups.h"

namespace flotilla {
namespace {

class FedDynServer final : public Aggregator {
 public:
  FedDynServer(double alpha, std::string alpha_text) : alpha_(alpha), alpha_text_(std::move(alpha_text)) {}

  Status prepare(const AlgorithmSetup& setup) override {
    std::vector<std::string> names;
    std::vector<at::Tensor> like;
    RETURN_IF_ERROR(read_trainable(kFedDynName, setup, &names, &like));
    num_clients_ = setup.num_clients;
    h_ = ModelState();
    for (size_t k = 0; k < names.size(); ++k) h_.add(names[k], at::zeros_like(like[k]).to(at::kCPU));
    return Status();
  }

  ClientHalf client_half() const override { return ClientHalf{kFedDynName, {{"alpha", alpha_text_}}}; }

  StatusOr<ModelState> aggregate(const AggregationRound& round) override {
    if (num_clients_ < 1)
      return failed_precondition_error(std::string(kFedDynName) + " was not prepared (no AlgorithmSetup)");
    for (const auto& u : round.updates)
      if (!u.extras.empty())
        return invalid_argument_error(std::string(kFedDynName) + ": client " + std::to_string(u.client_id) +
                                      " sent extras ('" + u.extras[0].name + "'), this rule expects none");
    const ModelState& global = *round.global;
    // Where each trainable parameter sits in the model (updates share its layout).
    std::vector<size_t> index;
    ModelState trainable;
    for (const auto& e : h_.entries()) {
      size_t i = 0;
      while (i < global.size() && global[i].name != e.name) ++i;
      if (i == global.size())
        return invalid_argument_error(std::string(kFedDynName) + ": the global model has no parameter '" + e.name +
                                      "'");
      index.push_back(i);
      trainable.add(e.name, global[i].tensor);
    }
    RETURN_IF_ERROR(check_state_fits_model(kFedDynName, "h", trainable, h_));
    ASSIGN_OR_RETURN(ModelState next, weighted_average(round.updates));  // the buffers' value
    const double participants = static_cast<double>(round.updates.size());
    for (size_t k = 0; k < h_.size(); ++k) {
      const size_t i = index[k];
      const at::Tensor prev = global[i].tensor.to(at::kDouble);
      at::Tensor sum = at::zeros(prev.sizes(), prev.options());
      for (const auto& u : round.updates) sum.add_(u.state[i].tensor.to(at::kDouble));
      const at::Tensor drift = sum - participants * prev;  // sum_i (theta_i - theta_prev)
      at::Tensor& h = h_.mutable_entries()[k].tensor;
      const at::Tensor h64 = h.to(at::kDouble) - alpha_ / static_cast<double>(num_clients_) * drift;
      h = h64.to(h.scalar_type());
      next.mutable_entries()[i].tensor = (sum / participants - h64 / alpha_).to(global[i].tensor.scalar_type());
    }
    return next;
  }

  ModelState save_state() const override { return join_state_groups({{"h", &h_}}); }

  Status restore_state(const ModelState& state) override {
    return restore_parameter_group(kFedDynName, "h", state, &h_);
  }

 private:
  double alpha_;
  std::string alpha_text_;
  int num_clients_ = 0;
  ModelState h_;  // one tensor per trainable parameter, on the CPU
};

}  // namespace

OptionSpec feddyn_alpha_option() {
  return {"alpha", "0.01", "regularisation weight alpha > 0 (both the clients' penalty and the server's h)"};
}

AggregatorRegistry::Entry feddyn_server_entry() {
  return {kFedDynName,
          "FedDyn (Acar et al. 2021): dynamic regularisation of the clients, corrected mean on the server",
          {feddyn_alpha_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double alpha, read_positive(o, "alpha"));
            ASSIGN_OR_RETURN(std::string text, o.get_string("alpha"));
            return std::unique_ptr<Aggregator>(new FedDynServer(alpha, text));
          }};
}

}  // namespace flotilla
