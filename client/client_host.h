// ClientHost: one client process. It hosts one or more logical clients that share one
// in-memory copy of the dataset and one model, and trains them one after another as round tasks
// arrive, so that a 100-client experiment fits on one machine while the coordinator still sees
// 100 clients.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

struct ClientOptions {
  std::string connect;          // coordinator endpoint, e.g. tcp://host:5555
  std::vector<int> client_ids;  // logical clients hosted here
  std::string data_dir;         // empty: the dataset's default folder
  std::string device = "auto";  // auto | cpu | cuda[:N]
  // Give up when the coordinator has said nothing for this long while we were idle.
  std::chrono::seconds coordinator_timeout{120};
  // Fault injection for tests: the process dies (exit 137, like SIGKILL) on receiving a task
  // for this round, mid-round from the coordinator's point of view. 0 = never.
  int crash_at_round = 0;
};

class ClientHost {
 public:
  explicit ClientHost(ClientOptions options);
  ~ClientHost();
  ClientHost(const ClientHost&) = delete;
  ClientHost& operator=(const ClientHost&) = delete;

  // Registers, serves round and evaluation tasks, and returns OK when the coordinator says to
  // shut down. Errors: cannot connect, rejected registration (e.g. protocol version), data
  // that cannot be loaded, coordinator silent past the timeout.
  Status run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flotilla
