// AsyncTraining: asynchronous federated training over the coordinator's event loop (--mode
// async). The coordinator keeps `concurrency` clients training at once, each from the global
// model of the moment (a version); every answer is validated like any update (UpdateIntake) and
// handed to the asynchronous server (async/async_server.h), which weights it by its staleness
// (FedAsync) or buffers K of them (FedBuff), with DC-ASGD's delay compensation if asked; the
// client then gets a new task. Each new global version is a "round" of the run's record: its
// metrics line lists the updates that made it, with their staleness, and it is evaluated and
// checkpointed like a synchronous round (--eval-every, --checkpoint-every).
//
// Order and reproducibility (async/completion_order.h): with the virtual clock (the default),
// every task gets a simulated duration (local steps x step_cost, slow clients' factor, the delay
// model's draws) and updates are applied in simulated-finish order, waiting for the due one; the
// client for each task is drawn with the run's seed from the idle ones. So a run whose clients
// all stay up repeats bit for bit, whatever the real timing. With clock=real, updates apply as
// they arrive and clients really wait the delay model's delays (RoundTask.delay_seconds): what a
// deployment does, not repeatable.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "async/async_options.h"
#include "coordinator/federated_evaluation.h"
#include "coordinator/training_policy.h"

namespace flotilla {

class AsyncTraining : public TrainingPolicy {
 public:
  // `restored`: a checkpoint's AsyncServer::save_state() when resuming (empty: a fresh run).
  // InvalidArgument naming the --async-opt at fault.
  static StatusOr<std::unique_ptr<AsyncTraining>> create(TrainingContext ctx, const ModelState& restored);

  Status run(int first_round) override;

  void on_update(msg::ClientUpdate update, int64_t wire_bytes) override;
  void on_client_error(const msg::Error& error) override;
  void on_clients_lost(const std::vector<int>& ids, const std::string& why) override;
  void on_clients_registered(const std::vector<int>& ids) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct InFlight {
    TaskTicket ticket;
    ModelState base;  // the model the task carried: compressed updates decode against it
    Clock::time_point sent;
    std::optional<AsyncUpdate> result;  // validated, waiting for its turn
    ClientRoundMetrics metrics;
  };

  AsyncTraining(TrainingContext ctx, AsyncConfig config);
  Status dispatch_idle_clients();
  Status dispatch(int client_id);
  int64_t local_steps(int client_id) const;
  Status apply_ready();
  // The task will not be applied: `status` is "lost: ...", "error: ..." or "timeout".
  void end_task(int64_t task_id, const std::string& status);
  void time_out_tasks();
  Status submit_version(int64_t version);
  // Hands the made versions to the committer, each after its federated evaluation when one is
  // due. Called from run()'s loop, never from a hub callback: the evaluation pumps the hub itself.
  Status submit_made_versions();
  // The last version (--rounds) is made: nothing more is applied or dispatched.
  bool finished() const { return server_->version() >= ctx_.config.rounds; }

  TrainingContext ctx_;
  AsyncConfig config_;
  std::unique_ptr<AsyncServer> server_;
  std::unique_ptr<CompletionOrder> order_;
  std::map<int64_t, InFlight> tasks_;   // by task id
  std::map<int, int64_t> busy_;         // client id -> its task
  std::map<int, int64_t> tasks_given_;  // client id -> tasks dispatched to it (delay draws)
  std::set<int> overdue_;               // timed out, not given tasks until they answer
  int64_t dispatched_ = 0;
  Status failure_;  // a local failure met inside a callback; run() returns it
  // The version being built: the updates and failures since the last one.
  std::vector<ClientRoundMetrics> rows_;
  Clock::time_point version_start_;
  double fold_seconds_ = 0;
  // Versions made and not yet handed to the committer (with their model and, when a checkpoint
  // is due, the server's state), in order.
  struct MadeVersion {
    RoundMetrics metrics;
    ModelState model;
    ModelState server_state;
    bool evaluate = false;
  };
  std::deque<MadeVersion> made_;
  FederatedEvaluation federated_;  // clients evaluate the evaluated versions (--federated-eval)
};

}  // namespace flotilla
