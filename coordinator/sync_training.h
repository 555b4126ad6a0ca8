// SyncTraining: synchronous federated rounds (FedAvg and every rule of aggregators/), the
// policy Flotilla has always run. Each round: sample clients (seeded by round), send every
// sampled client the global model, fold each accepted update in as it arrives (or keep it, for
// rules that need the whole round), close the round when every task ended and at least --min-fit
// answered (sending replacement tasks, or waiting for rejoins, until --round-timeout otherwise),
// aggregate, and submit the round for evaluation and recording. The bookkeeping of one round is
// SyncRound's; this class connects it to the event loop. Under secure aggregation a task's answer
// is the client's keys, and the round's protocol (SecureRound, opened by the round's stage) runs
// over the same loop before the stage aggregates the sum it yields.
#pragma once

#include <memory>
#include <set>

#include "coordinator/federated_evaluation.h"
#include "coordinator/round_aggregation.h"
#include "coordinator/sync_round.h"
#include "coordinator/training_policy.h"

namespace flotilla {

class SyncTraining : public TrainingPolicy {
 public:
  explicit SyncTraining(TrainingContext ctx)
      : ctx_(ctx), stage_(ctx.round_stage ? *ctx.round_stage : plain_rounds_), federated_(ctx.hub, *this) {}

  Status run(int first_round) override;

  void on_update(msg::ClientUpdate update, int64_t wire_bytes) override;
  void on_client_error(const msg::Error& error) override;
  void on_clients_lost(const std::vector<int>& ids, const std::string& why) override;
  void on_clients_registered(const std::vector<int>& ids) override;
  void on_secagg_step(msg::SecAggStep step, int64_t wire_bytes) override;

 private:
  Status run_round(int round_number);
  // Secure aggregation's stages 1-3, once every task has ended: until the protocol finishes (each
  // stage bounded by its own timeout) or the run is stopped.
  Status run_secure_stages();
  void send_secagg(msg::SecAggStep step);
  // Turns the loop until the evaluation in progress (if any) is done; Aborted when stopped.
  Status wait_for_evaluation(const std::string& when);
  std::vector<int> sampleable_ids() const;
  void send_tasks(const std::vector<int>& ids);
  void send_replacements(int attempt);

  TrainingContext ctx_;
  const RoundStage plain_rounds_;  // the stage when the run names none
  const RoundStage& stage_;
  FederatedEvaluation federated_;                  // clients evaluate the evaluated rounds' models (--federated-eval)
  ModelState round_extras_;                        // the server half's extras sent with this round's tasks
  std::unique_ptr<SyncRound> round_;               // of the round in progress
  std::unique_ptr<RoundAggregation> aggregation_;  // of the round in progress
  std::unique_ptr<SecureRound> secure_;            // of the round in progress, under secure aggregation
  // Clients whose last task timed out while their process stayed alive (hung, or far slower than
  // --round-timeout): not sampled again until they answer that task, or their process re-registers
  // or is lost, so that one hung client does not cost every later round a timeout.
  std::set<int> overdue_;
};

}  // namespace flotilla
