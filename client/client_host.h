// ClientHost: one client process. It hosts one or more logical clients that share one
// in-memory copy of the dataset and one model, and trains them one after another as round tasks
// arrive, so that a 100-client experiment fits on one machine while the coordinator still sees
// 100 clients.
//
// Two threads: the caller of run() owns the socket (registration, heartbeats, liveness, sending
// replies); a worker thread runs the TaskRunner (data loading, training, evaluation), so that a
// process busy training still answers within the coordinator's peer timeout, and a coordinator
// that vanished is noticed even mid-task.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/client_state_store.h"
#include "client/model_trust.h"
#include "client/secure_aggregation_member.h"
#include "core/status.h"
#include "datasets/site_data.h"
#include "training/client_algorithm.h"

namespace flotilla {

struct ClientOptions {
  std::string connect;          // coordinator endpoint, e.g. tcp://host:5555
  std::vector<int> client_ids;  // logical clients hosted here
  std::string data_dir;         // empty: the dataset's default folder
  // Train on the site's own files in data_dir (client/local_data.h) instead of a share of a public
  // data set, in runs of dataset "local"; the CSV label column; whether per-class counts stay here.
  bool local_data = false;
  SiteDataOptions site;
  bool withhold_label_counts = false;
  ModelTrust model_trust;       // which TorchScript archive this client runs (client/model_trust.h)
  std::string device = "auto";  // auto | cpu | cuda[:N]
  // CURVE (docs/security.md): the coordinator's public key (a .public file or the Z85 text) and
  // this client's key file (flotilla-keys generate). Both or neither.
  std::string coordinator_key;
  std::string key_file;
  // Decentralised rounds: where this process listens for the other clients, e.g.
  // tcp://10.0.0.7:6000 or ipc:///tmp/run/peer-3 (a concrete port: the coordinator tells the
  // group before it is bound). Empty: it takes no part in ring-allreduce or gossip rounds.
  std::string peer_bind;
  // A heartbeat goes to the coordinator this often; a coordinator not heard from for
  // peer_timeout is lost. Then the client registers again, backing off from 1 s to 8 s between
  // tries, and gives up with an error once reconnect_timeout has passed without a welcome. The
  // same deadline bounds the first registration (the coordinator may start after its clients).
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds peer_timeout{10000};
  std::chrono::milliseconds reconnect_timeout{120000};
  // Fault injection for tests; see TaskRunnerOptions. 0 = never.
  int crash_at_round = 0;
  int hang_at_round = 0;
  SecAggDropout secagg_dropout;
  // Client halves (built-ins and --plugin libraries'); null: the built-ins. And where the logical
  // clients' algorithm state lives (client/client_state_store.h).
  std::shared_ptr<const ClientAlgorithmRegistry> algorithms;
  ClientStateStoreOptions state;
};

class ClientHost {
 public:
  explicit ClientHost(ClientOptions options);
  ~ClientHost();
  ClientHost(const ClientHost&) = delete;
  ClientHost& operator=(const ClientHost&) = delete;

  // Registers, serves round and evaluation tasks, and returns OK when the coordinator says to
  // shut down. Errors: cannot connect, registration refused (protocol version, ids not ours),
  // data that cannot be loaded, coordinator unreachable past reconnect_timeout.
  Status run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flotilla
