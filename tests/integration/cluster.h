// LocalCluster: a coordinator and client processes on loopback for integration tests, started
// and stopped one by one so that tests can kill, restart and impersonate them. Every process
// writes its own log file in the cluster's temp folder; nothing reads ../shared.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"

namespace flotilla::testing {

// Where the programs under test are (flotilla-coordinator, flotilla-client...).
inline const std::string kBinDir = FLOTILLA_BIN_DIR;
// Liveness quick enough for a test to see a process lost in seconds.
inline const std::vector<std::string> kClientLiveness = {"--peer-timeout", "3", "--heartbeat-interval", "0.5"};

// The small experiment every resilience test runs: synthetic data, the MLP, IID, seed 7.
std::vector<std::string> small_experiment_flags(int epochs = 2);

class LocalCluster {
 public:
  explicit LocalCluster(const std::string& name);

  const std::string& dir() const { return tmp_; }
  std::string run_dir() const { return tmp_ + "/run"; }
  const std::string& endpoint() const { return endpoint_; }
  // Clients started from now on connect here (e.g. loopback for a wildcard bind).
  void use_endpoint(std::string endpoint) { endpoint_ = std::move(endpoint); }

  // Starts flotilla-coordinator with --bind `bind` --endpoint-file plus `args` (and --out run_dir()
  // unless `args` has --resume); waits until it has bound. False (and a test failure) when it
  // did not. A restart binds the endpoint of the previous coordinator unless told otherwise, so
  // that running clients find it again.
  bool start_coordinator(const std::vector<std::string>& args, std::string bind = "");
  ChildProcess& coordinator() { return *coordinator_; }

  // Starts flotilla-client --connect endpoint() --client-ids `ids` --threads 1 plus `args`;
  // the log is client-<name>.log (name defaults to ids; a restart gets a new log).
  ChildProcess& start_client(const std::string& ids, const std::vector<std::string>& args = {},
                             const std::string& name = "");
  ChildProcess& client(const std::string& name) { return *clients_.at(name); }

  // Waits for the coordinator's exit code (-1 on timeout) and gives clients `grace` to exit.
  int wait_coordinator(std::chrono::seconds timeout, std::chrono::seconds grace = std::chrono::seconds(20));

  std::vector<nlohmann::json> rounds() const;  // metrics.jsonl
  // Waits until metrics.jsonl holds at least `count` rounds or `timeout` passes; how many it holds.
  size_t wait_for_rounds(size_t count, std::chrono::seconds timeout) const;
  // Waits until the coordinator's log contains `needle` or `timeout` passes; whether it does.
  bool wait_for_log(const std::string& needle, std::chrono::seconds timeout) const;
  std::string coordinator_log() const { return coordinator_ ? coordinator_->log() : ""; }

 private:
  std::string tmp_;
  std::string endpoint_;
  std::unique_ptr<ChildProcess> coordinator_;
  std::map<std::string, std::unique_ptr<ChildProcess>> clients_;
  std::vector<std::unique_ptr<ChildProcess>> retired_;  // replaced by a restart; kept to be reaped
  int restarts_ = 0;
};

// CURVE keys made with flotilla-keys in the cluster's folder: the coordinator's pair, one pair per
// name of `allowed` (the i-th may register client id i, as the allowlist says) and of `unlisted`
// (keys the allowlist does not know). ok is false (and the test has failed) when the tool failed.
struct ClusterKeys {
  bool ok = false;
  std::string dir;        // <name>.public, <name>.secret
  std::string allowlist;  // for --allowlist
  std::string coordinator_secret() const { return dir + "/coordinator.secret"; }
  // --coordinator-key and --key for the client process holding `name`'s key.
  std::vector<std::string> client_flags(const std::string& name) const {
    return {"--coordinator-key", dir + "/coordinator.public", "--key", dir + "/" + name + ".secret"};
  }
};
ClusterKeys make_keys(const LocalCluster& cluster, const std::vector<std::string>& allowed,
                      const std::vector<std::string>& unlisted = {});

std::vector<nlohmann::json> read_jsonl(const std::string& path);
// The model SHA-256 of the last round in `rounds` (metrics.jsonl rows); empty when there is none.
std::string final_model_sha(const std::vector<nlohmann::json>& rounds);
// Takes a run back to the state after `round`: the checkpoints of later rounds go (round_NNNN.*).
void remove_checkpoints_after(const std::string& run_dir, int round);
// row["policy"][key] (a round's or a client's row), or NaN and a test failure when it is missing.
double policy_of(const nlohmann::json& row, const char* key);
// How many times `needle` occurs in `text`.
int count_of(const std::string& text, const std::string& needle);

}  // namespace flotilla::testing
