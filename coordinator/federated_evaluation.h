// FederatedEvaluation: a global model evaluated by the clients on their own test data, the way
// real federations measure accuracy when no one holds a central test set (Flower's evaluate
// round). A stage over the hub's one event loop: it sends one EvaluateTask per process naming its
// sampled clients, pumps the hub until every client answered, failed, was lost or the timeout
// passed, and hands whatever else happens meanwhile (late updates, registrations, losses) on to
// the training policy that called it. Coordinator thread only.
#pragma once

#include <atomic>
#include <map>
#include <vector>

#include "coordinator/client_hub.h"
#include "coordinator/coordinator_config.h"
#include "coordinator/round_metrics.h"
#include "core/experiment.h"
#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

class FederatedEvaluation : private HubListener {
 public:
  // `training` hears every event that is not an evaluation's answer; both outlive this object.
  FederatedEvaluation(ClientHub& hub, HubListener& training) : hub_(hub), training_(training) {}

  // Clients `ids` evaluate `model` (the global model after `round`) with `config`'s input
  // normalisation. Never fails for what clients do (their failures are rows of the result);
  // Aborted once `stop` is set, and transport errors of the hub.
  StatusOr<FederatedEvalMetrics> run(int round, const ModelState& model, const std::vector<int>& ids,
                                     const TrainConfig& config, double timeout_s, const std::atomic<bool>* stop);

 private:
  void on_update(msg::ClientUpdate update, int64_t wire_bytes) override;
  void on_client_error(const msg::Error& error) override;
  void on_clients_lost(const std::vector<int>& ids, const std::string& why) override;
  void on_clients_registered(const std::vector<int>& ids) override;
  void on_evaluate_result(const msg::EvaluateResult& result, int64_t wire_bytes) override;
  void on_evaluate_error(const msg::Error& error) override;

  // Ends `id`'s row with `status` if it still awaits an answer.
  void end(int id, const std::string& status);

  ClientHub& hub_;
  HubListener& training_;
  int round_ = 0;
  std::map<int, ClientEvalMetrics> rows_;
  int outstanding_ = 0;
};

// The clients that evaluate round `round`'s model: a seeded sample of `live` of
// --federated-eval-fraction (0: --fraction) of them, at least one, drawn apart from training's.
std::vector<int> federated_eval_sample(const CoordinatorConfig& config, const std::vector<int>& live, int round);

// The sample-weighted means of `metrics.clients` that answered ("ok"), into `metrics`.
void summarise_federated_eval(FederatedEvalMetrics& metrics);

}  // namespace flotilla
