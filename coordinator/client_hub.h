// ClientHub: the coordinator's event loop over its client processes, whatever the training
// policy (coordinator/training_policy.h). It owns the ROUTER channel and knows who is connected:
// it admits and registers processes, sends heartbeats, declares silent or closed processes lost,
// drops what is malformed or unexpected, and sends tasks one message per process. What matters
// to training (updates, client errors, lost or (re)joined clients) it hands to a HubListener: the
// policy, which decides what to do with it. Coordinator thread only, like the channel.
//
// Task ids: send() names every task message with a fresh id and remembers, per client, the last
// one it sent; an update (or a task's error) that names another id is dropped. The ids start at a
// random 64-bit value per coordinator process, so an answer to a task of a coordinator that ran
// before a restart (a client still finishing it) is told apart from the answer to this
// coordinator's task of the same round.
//
// Uploads: a client offers each answer that carries a model (msg::UploadOffer) and sends it when
// the hub grants it; the hub grants offers in order while the granted bytes not yet arrived fit
// `upload_memory_bytes` (coordinator/upload_gate.h), and declines offers no longer wanted. An
// answer sent unasked is still taken.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "coordinator/admission.h"
#include "coordinator/client_registry.h"
#include "coordinator/conduct_budget.h"
#include "coordinator/run_observer.h"
#include "coordinator/upload_gate.h"
#include "core/experiment.h"
#include "core/log_throttle.h"
#include "core/status.h"
#include "protocol/messages.h"
#include "transport/allowlist.h"
#include "transport/channel.h"

namespace flotilla {

// What a training policy hears from the hub; called on the coordinator thread from within pump()
// or send().
class HubListener {
 public:
  virtual ~HubListener() = default;
  // An update from the live process that hosts update.client_id, answering the last task sent to
  // that client (anything else was dropped).
  // `wire_bytes`: what the message took on the wire.
  virtual void on_update(msg::ClientUpdate update, int64_t wire_bytes) = 0;
  // A client reported that its task failed (from the live process hosting error.client_id).
  virtual void on_client_error(const msg::Error& error) = 0;
  // The process hosting `ids` was lost (`why`: "silent for more than 10 s", "connection closed").
  virtual void on_clients_lost(const std::vector<int>& ids, const std::string& why) = 0;
  // A process registered (or re-registered) `ids`: they are reachable again.
  virtual void on_clients_registered(const std::vector<int>& ids) = 0;
  // A federated evaluation result from the live process hosting result.client_id, answering the
  // last task sent to that client (send_evaluation()). Training policies ignore them.
  virtual void on_evaluate_result(const msg::EvaluateResult& result, int64_t wire_bytes) {}
  // A client reported that its last evaluation task failed.
  virtual void on_evaluate_error(const msg::Error& error) {}
  // A step of secure aggregation (coordinator/secure_round.h) from the live process hosting
  // step.client_id, of the last task sent to that client. Policies without it ignore them.
  virtual void on_secagg_step(msg::SecAggStep step, int64_t wire_bytes) {
    (void)step;
    (void)wire_bytes;
  }
};

struct ClientHubOptions {
  int num_clients = 0;                // ids a process may register: [0, num_clients)
  Experiment experiment;              // sent in every Welcome
  double heartbeat_interval_s = 1.0;  // a heartbeat to every live process this often
  double peer_timeout_s = 10.0;       // a process silent this long is lost
  // With CURVE: which key may register which ids (null without CURVE).
  std::shared_ptr<const Allowlist> allowlist;
  // Bytes of granted uploads in transit at once (one is always allowed): with the update being
  // folded, what a burst of finished clients can make the coordinator hold.
  int64_t upload_memory_bytes = int64_t{256} << 20;
  // A granted upload that has not arrived after this long gives its bytes back (it is still taken
  // if it comes): one client cannot hold up everyone's uploads.
  double upload_grant_timeout_s = 60.0;
  // Asked of every registration the hub would otherwise accept (ids in range and allowed): a
  // non-OK status refuses it with that message, e.g. data that does not fit the model. Null:
  // nothing more to check.
  std::function<Status(const msg::Register&)> check_registration;
  // The run's TorchScript archive, shipped in the welcome to a client that does not say it holds
  // one of this digest (Register::model_sha256); null for a built-in model.
  std::shared_ptr<const std::string> model_archive;
  std::string model_sha256;  // of model_archive
  // Told what the clients do (registered, lost, heard from, tasks, uploads), for a live view; not
  // owned, outlives the hub. Null: nobody watches.
  RunObserver* observer = nullptr;
};

class ClientHub {
 public:
  using Clock = std::chrono::steady_clock;

  ClientHub(std::unique_ptr<ServerChannel> channel, ClientHubOptions options);

  // One turn of the loop: heartbeats when due (a send that fails means ZeroMQ knows the
  // connection is gone), every queued message (waiting up to `wait` for the first), then every
  // process silent past the peer timeout is lost. `listener` may be null while no training runs
  // (waiting for registrations): updates are then dropped as unexpected. Errors are local
  // transport failures only; nothing a peer sends makes this fail.
  Status pump(HubListener* listener, std::chrono::milliseconds wait = std::chrono::milliseconds(100));

  // Tasks for `ids`, prepared to be sent as one message per process naming all of its ids (the
  // model crosses the wire once per process however many logical clients it hosts).
  struct Dispatch {
    // Per id: what its task alone would have moved on the wire (the per-client traffic a
    // deployment with one process per client has), for ids hosted by a live process.
    std::map<int, int64_t> task_bytes;
    std::vector<int> unreachable;                                  // ids no live process hosts: not sent
    std::vector<std::pair<std::string, msg::RoundTask>> messages;  // per peer, in sampling order
  };
  Dispatch prepare(const msg::RoundTask& task, const std::vector<int>& ids) const;
  // Sends a prepared dispatch; returns the bytes that went on the wire. A process whose send
  // fails is lost at once (listener->on_clients_lost with every id it hosted).
  int64_t send(const Dispatch& dispatch, HubListener* listener);

  // Sends `task` (its client_ids ignored) to the live processes hosting `ids`, one message per
  // process naming its ids, each with a fresh task id that its results must echo. Evaluation task
  // ids are kept apart from training's: a client's training task in flight (asynchronous
  // training) is still answered. Returns the ids
  // no live process hosts (not sent) and adds the bytes that went on the wire to *wire_bytes. A
  // process whose send fails is lost at once, as in send().
  std::vector<int> send_evaluation(const msg::EvaluateTask& task, const std::vector<int>& ids, HubListener* listener,
                                   int64_t* wire_bytes);

  // Sends a step of secure aggregation to the live process hosting step.client_id, naming the last
  // task sent to that client; returns the bytes on the wire (0: no live process hosts it, or the
  // send failed and the process is lost, through listener->on_clients_lost).
  int64_t send_secagg(msg::SecAggStep step, HubListener* listener);
  // Tells a live process's client `client_id` that something it sent was refused.
  void send_error(const std::string& peer, const Status& status, int client_id, int round);
  // Tells every live process to shut down with `reason`.
  void shutdown(const std::string& reason);

  // The live process hosting `id` (its capabilities, ids and authenticated name), or nullptr.
  const ClientRegistry::Peer* live_peer_of(int id) const { return registry_.live_peer_of(id); }
  std::vector<int> live_ids() const { return registry_.live_ids(); }
  int live_size() const { return registry_.live_size(); }
  std::string endpoint() const { return channel_->endpoint(); }
  int64_t wire_bytes(const Frames& frames) const { return channel_->wire_bytes(frames); }
  UploadGate::Peaks take_upload_peaks() { return uploads_.take_peaks(); }

 private:
  void handle(const Incoming& in, HubListener* listener);
  // False when a registered peer's message must be dropped unread (conduct_budget.h); disconnects
  // the peer once its budget says so.
  bool within_conduct_budget(const std::string& peer, Clock::time_point now, HubListener* listener);
  void send_heartbeats_if_due(HubListener* listener);
  void on_register(const Incoming& in, const msg::Register& reg, HubListener* listener);
  void refuse_registration(const Incoming& in, const msg::Register& reg, const Status& why);
  Status check_model_consent(const msg::Register& reg) const;
  void peer_lost(const std::string& peer, const std::string& why, HubListener* listener);
  std::string peer_name(const std::string& peer) const;
  bool answers_last_task(int client_id, uint64_t task_id) const;
  // `peer` is the live process hosting `client_id`, and `task_id` the last task sent to it.
  bool awaits_answer(const std::string& peer, int client_id, uint64_t task_id) const;
  void on_upload_offer(const std::string& peer, const msg::UploadOffer& offer, HubListener* listener);
  void decline_upload(const std::string& peer, uint64_t task_id, int client_id);
  // Declines queued offers no longer wanted and grants what the upload memory allows.
  void grant_uploads(HubListener* listener);

  std::unique_ptr<ServerChannel> channel_;
  ClientHubOptions options_;
  Clock::duration heartbeat_interval_;
  Clock::duration peer_timeout_;
  Clock::time_point last_heartbeat_{};
  ClientRegistry registry_;
  Admission admission_;
  ConductBudget conduct_;
  LogThrottle refusal_log_;                       // malformed messages and refused registrations
  LogThrottle budget_log_;                        // messages dropped for a spent budget
  std::set<int> client_seen_;                     // ids ever registered, to tell a rejoin from a first registration
  uint64_t next_task_id_;                         // see "Task ids" above
  std::map<int, uint64_t> task_of_client_;        // the last task sent to each client
  std::map<int, uint64_t> evaluation_of_client_;  // the last evaluation task sent to each client
  UploadGate uploads_;
};

}  // namespace flotilla
