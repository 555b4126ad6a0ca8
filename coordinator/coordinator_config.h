// Everything a coordinator run is configured with; each field documents its default. Filled
// from flags or a config file by main.cc and checked once by validate().
#pragma once

#include <string>
#include <vector>

#include "core/experiment.h"
#include "core/options.h"
#include "core/status.h"

namespace flotilla {

struct CoordinatorConfig {
  std::string bind = "tcp://*:5555";  // ZeroMQ endpoint; tcp://127.0.0.1:* picks a free port
  std::string endpoint_file;          // if set, the bound endpoint is written here (for launchers)
  Experiment experiment;              // dataset, model, number of clients, partitioner, seed
  std::string data_dir;               // empty: the dataset's default folder
  TrainConfig train;                  // sent to clients each round
  int rounds = 5;
  int min_clients = 0;                  // logical clients to wait for before round 1; 0 = all
  double fraction = 1.0;                // share of registered clients sampled per round
  int min_fit = 1;                      // fewest sampled clients, and fewest answers to go on
  double round_timeout_s = 600;         // wait this long for updates, then go on with those in
  double registration_timeout_s = 300;  // wait this long for min_clients to register
  // Liveness: the coordinator sends every client process a heartbeat this often, and a process
  // it has heard nothing from for peer_timeout_s is lost (its tasks end as "lost" at once).
  double heartbeat_interval_s = 1.0;
  double peer_timeout_s = 10.0;
  std::string aggregator = "fedavg";
  Options aggregator_options;
  std::vector<std::string> plugins;  // shared libraries registering more aggregators
  std::string out_dir;               // run directory; empty: runs/<timestamp>
  std::string device = "auto";       // for evaluating the global model
  int eval_batch_size = 1000;
  int checkpoint_every = 1;  // write checkpoints/round_NNNN.pt every N rounds; 0 = never

  // Number of clients to sample this round, given how many are available.
  int sample_size(int available) const;

  // InvalidArgument naming the first bad field.
  Status validate() const;
};

// The whole configuration as a JSON object (written to the run directory).
std::string to_json(const CoordinatorConfig& config);

}  // namespace flotilla
