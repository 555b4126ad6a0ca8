// What the user asked flotilla-run for, as parsed from its command line (command_line.h) and
// before validation (LaunchPlan::create checks it once).
#pragma once

#include <string>
#include <vector>

namespace flotilla {

struct LaunchOptions {
  // Logical clients (= data partitions); required, at least 1 (unless resuming).
  int clients = 0;
  // Client processes that host them; 0 = min(clients, 4). At most `clients`.
  int processes = 0;
  // Clients the coordinator waits for before round 1; 0 = all of them (all are started here).
  int min_clients = 0;
  // Folder holding flotilla-coordinator and flotilla-client; empty = the folder of flotilla-run.
  std::string bin_dir;
  // Coordinator port on 127.0.0.1; "*" lets the kernel pick a free one.
  std::string port = "*";
  // LibTorch threads for every child; 0 = share the CPUs (see LaunchPlan::create).
  int threads = 0;
  // Passed to the coordinator and every client when not empty.
  std::string config;
  std::string data_dir;
  std::string device;
  std::string log_level;
  // Shared libraries of aggregators and client halves: --plugin for the coordinator and every
  // client, which need the same ones.
  std::vector<std::string> plugins;
  // Passed to every client when not empty (client/client_state_store.h).
  std::string client_state_dir;
  std::string client_state_memory;  // MB, as given
  // Client-only flags about a site's own data, verbatim for every client: --label-column C,
  // --withhold-label-counts.
  std::vector<std::string> client_args;
  // Passed to the coordinator when not empty.
  std::string out_dir;
  // Continue this run directory from its last checkpoint (flotilla-coordinator --resume); the
  // number of clients comes from its config.json when `clients` is 0.
  std::string resume_dir;
  // Throwaway CURVE keys for the coordinator and every client process (launch_keys.h); false
  // runs in plain text on loopback.
  bool encrypt = true;
  // Seconds the coordinator has to bind and write its endpoint before the run is given up.
  double startup_timeout_s = 60;
  // Seconds clients have to exit on their own after the coordinator finished well.
  double client_grace_s = 10;
  // Seconds between SIGTERM and SIGKILL when stopping children.
  double stop_timeout_s = 5;
  // The coordinator's live view (--live-view [HOST:]PORT, docs/live_view.md); empty: none asked for.
  std::string live_view;
  // One progress line redrawn in place at the bottom of the terminal, from the live view (one on
  // 127.0.0.1, any free port, when the user asked for none). main sets it when stdout is a
  // terminal and --no-progress was not given; piped output stays plain lines.
  bool progress_line = false;
  bool no_progress = false;  // --no-progress
  // Options flotilla-run does not know, verbatim and in order, for the coordinator.
  std::vector<std::string> coordinator_args;
};

}  // namespace flotilla
