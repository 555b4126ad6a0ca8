// RunObserver: what happens in a run, as the coordinator's one event loop sees it, for whoever
// watches it live (coordinator/live_status.h serves it as a web page, JSON and Prometheus text).
// ClientHub reports what the clients do, RoundCommitter how the rounds end, the Coordinator the
// run's start and end; the training policies need not know an observer exists.
//
// Every call comes on the coordinator thread, inside the loop: an implementation must return at
// once (no I/O, no waiting on anything slow) and is responsible for its own thread-safety towards
// the threads that read what it gathered. Every event has an empty default, so an observer picks
// what it needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/round_metrics.h"

namespace flotilla {

// The run as configured, known once the coordinator has set it up.
struct RunInfo {
  std::string run_dir;
  std::string mode = "sync";      // sync | async
  std::string topology = "star";  // star | ring-allreduce | gossip
  std::string aggregator;
  std::string dataset;
  std::string model;
  std::string endpoint;  // the clients' ZeroMQ endpoint
  std::string security;  // curve | loopback | insecure
  int rounds = 0;        // the run's last round (or server version)
  int first_round = 1;   // > 1 when resumed
  int num_clients = 0;   // logical clients: ids [0, num_clients)
  int min_clients = 0;   // clients waited for before round 1
  double round_timeout_s = 0;
  bool federated_eval = false;
  int64_t upload_memory_bytes = 0;  // the upload gate's budget
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;

  // Before the coordinator waits for clients.
  virtual void on_run_started(const RunInfo& info) {}
  // The run ended: `ok` false when it failed or was stopped; `message` says why, or is empty.
  virtual void on_run_finished(bool ok, const std::string& message) {}

  // A process registered (or re-registered) `ids`; `process` names it ("host pid 123 (cpu)").
  virtual void on_clients_registered(const std::vector<int>& ids, const std::string& process) {}
  // The process hosting `ids` was lost (`why`: "silent for more than 10 s", "connection closed").
  virtual void on_clients_lost(const std::vector<int>& ids, const std::string& why) {}
  // A message came from the live process hosting `ids` (heartbeats included).
  virtual void on_heard_from(const std::vector<int>& ids) {}

  // Training tasks of `round` were prepared for `ids` (sampled), then sent.
  virtual void on_tasks_prepared(int round, const std::vector<int>& ids) {}
  virtual void on_tasks_sent(int round, const std::vector<int>& ids) {}
  // Client `id` finished training and offered its update; the offer was granted (it uploads).
  virtual void on_upload_offered(int id) {}
  virtual void on_upload_granted(int id) {}
  // The update of `id` answering its last task arrived (`wire_bytes` on the wire). The training
  // policy may still reject it: the round's closing metrics say so.
  virtual void on_update_received(int id, int64_t wire_bytes) {}
  // Client `id` reported that its current task (training or evaluation) failed.
  virtual void on_client_error(int id, const std::string& message) {}
  // Federated evaluation tasks of `round`'s model went to `ids`; `id` answered one.
  virtual void on_evaluation_sent(int round, const std::vector<int>& ids) {}
  virtual void on_evaluation_received(int id) {}
  // Bytes of granted uploads in transit now (what --upload-memory bounds).
  virtual void on_upload_memory(int64_t in_use_bytes) {}

  // A round ended (RoundCommitter::submit, or a failed round): its per-client statuses, traffic
  // and divergence are final; test accuracy is not known yet (it is evaluated in the background).
  virtual void on_round_closed(const RoundMetrics& metrics) {}
  // The round was recorded: test accuracy and loss (NaN for rounds not evaluated), federated
  // evaluation and the policy's measurements (asynchronous staleness; a privacy budget as
  // policy["epsilon"]) are final.
  virtual void on_round_committed(const RoundMetrics& metrics) {}
};

}  // namespace flotilla
