// AsyncServer: the server side of asynchronous federated training as pure logic (no sockets, no
// threads, no clock): tasks and their base versions, staleness, validation, delay compensation,
// and an AsyncRule (FedAsync, FedBuff) for the math. The coordinator's event loop drives it:
//
//   TaskTicket t = server.dispatch(client);          // send server.global() (version t.base_version)
//   order.start(t.task_id, client, local_steps);     // async/completion_order.h
//   ...result arrives: order.report(task_id); keep the AsyncUpdate until applied
//   while (auto id = order.next_ready()) {
//     StatusOr<AsyncUpdateRecord> r = server.apply(update[*id]);  // error: update refused, logged
//     order.complete(*id);                            // applied or refused, the task is over
//     record r (metrics); if r->model_changed: evaluate / checkpoint (save_state) as configured
//     dispatch a replacement task (keep `concurrency` in flight)
//   }
//   a task that never answers: server.abandon(id); order.cancel(id)
//
// Versions: the initial model is version 0; each change of the global model (every FedAsync
// update, every K-th FedBuff update) is the next version. An update's staleness tau is the current
// version minus the version its task was dispatched with.
//
// Not thread-safe: one thread (the event loop) owns it.
#pragma once

#include <cstdint>
#include <memory>

#include "async/async_rule.h"
#include "async/delay_compensation.h"
#include "async/staleness.h"
#include "async/staleness_tracker.h"
#include "async/version_store.h"

namespace flotilla {

// A client's answer to a task.
struct AsyncUpdate {
  int64_t task_id = -1;
  int client_id = -1;
  int64_t base_version = -1;  // as the client echoes it; must be its ticket's
  int64_t num_samples = 0;    // > 0
  ModelState state;           // the trained model (not a delta), the global model's layout
};

// What happened to one accepted update, for metrics.
struct AsyncUpdateRecord {
  int64_t task_id = -1;
  int client_id = -1;
  int64_t num_samples = 0;
  int64_t base_version = 0;       // the version the client trained from
  int64_t arrival_version = 0;    // the version it was applied against
  int64_t staleness = 0;          // arrival_version - base_version
  double staleness_weight = 1.0;  // s(tau)
  double weight = 0.0;            // the rule's weight: FedAsync's a_t, FedBuff's s(tau) * w_i
  bool model_changed = false;     // this update made a new version (FedBuff: the K-th one)
  int64_t version_after = 0;      // the current version after it
};

struct AsyncServerOptions {
  Staleness staleness;   // s(tau); constant by default
  DelayCompensation dc;  // off by default (lambda = 0)
};

class AsyncServer {
 public:
  // `initial` is version 0 (not copied: the server never modifies its tensors). `rule` non-null.
  AsyncServer(std::unique_ptr<AsyncRule> rule, ModelState initial, AsyncServerOptions options);

  // A new task for `client_id` from the current version, which is kept until the task is over. A
  // client may hold several tasks at once (a host of logical clients); each is its own ticket.
  TaskTicket dispatch(int client_id);

  // Takes one result in. Errors, each naming the client and the task:
  //  - NotFound: the task is not in flight (never dispatched, already answered, abandoned), so its
  //    base version is unknown; nothing changes.
  //  - PermissionDenied: the task was given to another client; nothing changes.
  //  - InvalidArgument: the update is bad (base version not its ticket's, num_samples <= 0, layout
  //    differs from the global model, a non-finite value, also after delay compensation); the
  //    update is refused and the task is over.
  // Otherwise the task is over and the record says what the update did.
  StatusOr<AsyncUpdateRecord> apply(const AsyncUpdate& update);

  // A task that will never answer (client lost, timeout): its base version is released.
  // NotFound if it is not in flight.
  Status abandon(int64_t task_id);

  const ModelState& global() const { return versions_.current(); }
  int64_t version() const { return versions_.current_version(); }
  int in_flight() const { return tracker_.in_flight(); }
  const VersionStore& versions() const { return versions_; }
  const AsyncRule& rule() const { return *rule_; }

  // Checkpoint: the global model ("global/<name>"), its version and the next task id as named
  // tensors (a deep copy). Taken when the model just changed: FailedPrecondition while FedBuff holds
  // buffered updates, which a checkpoint would otherwise lose. In-flight tasks are not saved: after
  // a restart their clients are gone, and the resumed loop dispatches afresh.
  StatusOr<ModelState> save_state() const;
  // On a fresh server made with the same options and initial model: FailedPrecondition when tasks
  // are in flight or updates buffered; InvalidArgument naming the problem when `state` is not a
  // save_state() of this model's layout (and the server is left as it was).
  Status restore_state(const ModelState& state);

 private:
  Status accept(const TaskTicket& ticket, const AsyncUpdate& update, AsyncUpdateRecord& record);
  void end_task(const TaskTicket& ticket);

  std::unique_ptr<AsyncRule> rule_;
  AsyncServerOptions options_;
  VersionStore versions_;
  StalenessTracker tracker_;
};

}  // namespace flotilla
