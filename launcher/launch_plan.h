// Everything flotilla-run will start, decided and validated before anything starts: the two
// binaries, the client ranges, the thread counts and each child's command line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "launcher/client_ranges.h"
#include "launcher/launch_options.h"

namespace flotilla {

class LaunchPlan {
 public:
  // Validates `options` once. InvalidArgument for bad numbers or a port, or for options the
  // launcher sets itself (--bind, --endpoint-file, --connect, --client-id[s]) among the
  // coordinator's; NotFound when a binary is missing from options.bin_dir, which must be set.
  // `available_cpus` (at least 1) sizes the default thread counts.
  static StatusOr<LaunchPlan> create(LaunchOptions options, int available_cpus);

  const LaunchOptions& options() const { return options_; }
  const std::vector<ClientRange>& ranges() const { return ranges_; }
  int coordinator_threads() const { return coordinator_threads_; }
  int client_threads() const { return client_threads_; }
  // "tcp://127.0.0.1:PORT", what the coordinator binds.
  std::string bind_endpoint() const;

  // argv (argv[0] = the binary's path) of the coordinator, which writes its bound endpoint to
  // `endpoint_file`; the launcher's options come first, then the pass-through ones verbatim. With
  // a live view (--live-view, or the progress line's on 127.0.0.1:0) it writes the view's URL to
  // `live_view_url_file`.
  std::vector<std::string> coordinator_argv(const std::string& endpoint_file,
                                            const std::string& live_view_url_file = "") const;
  // Whether the coordinator serves a live view (the user asked, or the progress line needs one).
  bool live_view() const { return !options_.live_view.empty() || options_.progress_line; }
  // --live-view-token-file among the coordinator's options, or "".
  std::string live_view_token_file() const;
  // argv of client process `index` (< ranges().size()) connecting to `endpoint`. With a
  // decentralised --topology among the coordinator's arguments, each process (one client each)
  // also listens for its peers at ipc://`peer_dir`/peer-<index>.
  std::vector<std::string> client_argv(std::size_t index, const std::string& endpoint,
                                       const std::string& peer_dir = "") const;
  bool decentralised() const { return decentralised_; }
  // "clients 0-3", or "client 5" for a single one: the name in prefixes and messages.
  std::string client_name(std::size_t index) const;

 private:
  LaunchPlan() = default;
  // --config, --data-dir, --device, --log-level when set: what every child gets.
  void append_shared(std::vector<std::string>* argv) const;

  LaunchOptions options_;
  std::string coordinator_path_;
  std::string client_path_;
  std::vector<ClientRange> ranges_;
  int coordinator_threads_ = 1;
  int client_threads_ = 1;
  bool decentralised_ = false;  // --topology ring-allreduce | gossip
  bool local_data_ = false;     // --dataset local: clients get --local-data
  std::string client_model_;    // a TorchScript model's "torchscript:PATH", for the clients' own copy
};

// CPUs this process may run on (its affinity mask, which honours taskset and cpusets), at least 1.
int available_cpus();

// Folder of the running executable (from /proc/self/exe): where flotilla-run looks for its
// siblings, both in the build tree and after install.
StatusOr<std::string> executable_dir();

}  // namespace flotilla
