#include "algorithms/moon.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <memory>

#include "aggregators/option_checks.h"
#include "algorithms/averaging_server.h"
#include "algorithms/named_groups.h"
#include "models/model.h"

namespace flotilla {
namespace {

std::vector<OptionSpec> moon_options() {
  return {{"mu", "1", "weight mu > 0 of the contrastive term"},
          {"temperature", "0.5", "temperature tau > 0 of the cosine similarities"}};
}

class MoonClient final : public ClientAlgorithm {
 public:
  MoonClient(double mu, double temperature) : mu_(mu), temperature_(temperature) {}

  bool needs_features() const override { return true; }

  Status begin(ClientTask& task) override {
    const std::string who = std::string("client half '") + kMoonName + "'";
    RETURN_IF_ERROR(check_no_extras(who, task.server_extras));
    if (task.model == nullptr || !task.make_model)
      return failed_precondition_error(who + " needs a Model to train (its features), and the trainer has none");
    if (task.global == nullptr) return invalid_argument_error(who + ": the task has no global model");
    ASSIGN_OR_RETURN(global_model_, task.make_model(*task.global));
    const bool first_task = task.state == nullptr || task.state->empty();
    auto previous = task.make_model(first_task ? *task.global : *task.state);
    if (!previous.ok()) return previous.status().with_context(who + ": the previous local model does not fit");
    previous_model_ = std::move(previous).value();
    return Status();
  }

  at::Tensor loss_term(const TrainingStep& step) override {
    if (!global_model_ || !previous_model_ || step.x == nullptr) return at::Tensor();
    const at::Tensor z = step.features ? *step.features : step.model->features(*step.x);
    at::Tensor z_global, z_previous;
    {
      torch::NoGradGuard no_grad;
      z_global = global_model_->features(*step.x);
      z_previous = previous_model_->features(*step.x);
    }
    const at::Tensor s_global = at::cosine_similarity(z, z_global, 1) / temperature_;
    const at::Tensor s_previous = at::cosine_similarity(z, z_previous, 1) / temperature_;
    // -log softmax of the positive pair: logsumexp over both pairs minus the positive one.
    const at::Tensor l_con = (at::logsumexp(at::stack({s_global, s_previous}, 1), 1) - s_global).mean();
    return l_con * mu_;
  }

  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    (void)steps;
    global_model_.reset();
    previous_model_.reset();
    if (task.model == nullptr || task.state == nullptr)
      return invalid_argument_error(std::string("client half '") + kMoonName + "': the task has no model or no state");
    *task.state = model_state(*task.model).clone();  // the next task's previous model
    return ModelState();
  }

 private:
  double mu_;
  double temperature_;
  std::shared_ptr<Model> global_model_;    // frozen (eval mode, no gradient)
  std::shared_ptr<Model> previous_model_;  // this client's model after its previous task
};

struct MoonOptions {
  double mu;
  double temperature;
};

StatusOr<MoonOptions> read_options(const Options& o) {
  MoonOptions m;
  ASSIGN_OR_RETURN(m.mu, read_positive(o, "mu"));
  ASSIGN_OR_RETURN(m.temperature, read_positive(o, "temperature"));
  return m;
}

}  // namespace

AggregatorRegistry::Entry moon_server_entry() {
  return {kMoonName, "MOON (Li, He, Song 2021): model-contrastive term on the clients, FedAvg on the server",
          moon_options(), [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            RETURN_IF_ERROR(read_options(o).status());
            ASSIGN_OR_RETURN(std::string mu, o.get_string("mu"));
            ASSIGN_OR_RETURN(std::string temperature, o.get_string("temperature"));
            return std::unique_ptr<Aggregator>(
                new AveragingServer(kMoonName, ClientHalf{kMoonName, {{"mu", mu}, {"temperature", temperature}}}));
          }};
}

ClientAlgorithmRegistry::Entry moon_client_entry() {
  return {kMoonName, "MOON client half: adds mu * the model-contrastive loss on Model::features", moon_options(),
          [](const Options& o) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
            ASSIGN_OR_RETURN(MoonOptions m, read_options(o));
            return std::unique_ptr<ClientAlgorithm>(new MoonClient(m.mu, m.temperature));
          }};
}

}  // namespace flotilla
