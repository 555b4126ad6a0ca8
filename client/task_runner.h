// TaskRunner: the working half of a client process. It owns the logical clients' data and the
// model, and turns each task the coordinator sends (welcome, round task, evaluation task) into
// the reply to send back. It does no I/O of its own: ClientHost runs it on a worker thread so
// that the process keeps answering heartbeats while it loads data or trains.
//
// Thread-safety: none; one thread (the worker) uses it.
#pragma once

#include <c10/core/Device.h>

#include <atomic>
#include <memory>
#include <string>

#include "client/client_state_store.h"
#include "client/local_data.h"
#include "client/model_trust.h"
#include "client/secure_aggregation_member.h"
#include "core/status.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "training/client_algorithm.h"
#include "transport/curve_keys.h"

namespace flotilla {

struct TaskRunnerOptions {
  std::string data_dir;  // empty: the dataset's default folder
  // Train on the site's own files in data_dir (client/local_data.h) instead of a share of a public
  // data set; the run must be one of dataset "local".
  bool local_data = false;
  SiteDataOptions site;                // how the site's files are read
  bool withhold_label_counts = false;  // keep per-class counts from the coordinator
  ModelTrust model_trust;              // which TorchScript archive this client runs
  c10::Device device{c10::kCPU};
  // The client halves this process can run: the built-ins plus its --plugin libraries'. Null: the
  // built-ins only.
  std::shared_ptr<const ClientAlgorithmRegistry> algorithms;
  ClientStateStoreOptions state;  // where the logical clients' algorithm state lives
  // Fault injection for tests (0 = never): on receiving that round's task the process dies
  // (exit 137, as SIGKILL would), or the task never finishes while heartbeats go on (a hung
  // client, which only --round-timeout bounds).
  int crash_at_round = 0;
  int hang_at_round = 0;
  // Secure aggregation's dropouts, for tests (client/secure_aggregation_member.h).
  SecAggDropout secagg_dropout;
  // Decentralised rounds (client/collective_member.h): where this process listens for its peers
  // (empty: it takes no part in them) and its CURVE key pair (empty: peers talk in the clear).
  std::string peer_endpoint;
  CurveKeyPair peer_keys;
};

class TaskRunner {
 public:
  explicit TaskRunner(TaskRunnerOptions options);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // With options.local_data: reads the hosted clients' own files now, before registering, and
  // returns what the registration reports of them (nothing without local_data).
  StatusOr<std::vector<msg::DataReport>> load_local_data(const std::vector<int>& client_ids);

  // Loads the data of the welcomed clients and builds the model; a welcome for the experiment
  // already loaded (a re-registration) keeps them. An error here is fatal for the process.
  Status welcome(const msg::Welcome& welcome);
  bool ready() const;

  // The reply to a task: the update or result (under secure aggregation the client's keys; no
  // frames for a dropout injected at stage 0), or an Error for that client (one bad task must not
  // take the other logical clients down). A round task names several clients of this process:
  // each is run alone, by id. `cancelled` is polled by a hung task (fault injection).
  Frames run(const msg::RoundTask& task, int client_id, const std::atomic<bool>& cancelled);
  // Federated evaluation of task.state by `client_id` on its own test data (its test split, else
  // its held-out slice): an EvaluateResult, or an Error naming the client.
  Frames run(const msg::EvaluateTask& task, int client_id);
  // Secure aggregation: the answer to the coordinator's step of a round's protocol (an Error
  // naming the client when it refuses), or no frames when the client stays silent (a dropout
  // injected for tests).
  Frames run(const msg::SecAggStep& step);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flotilla
