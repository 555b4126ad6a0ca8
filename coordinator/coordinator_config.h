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
  // ZeroMQ endpoint; tcp://127.0.0.1:* picks a free port. Binding anything but loopback (or ipc://)
  // needs CURVE keys, or `insecure`.
  std::string bind = "tcp://127.0.0.1:5555";
  std::string endpoint_file;  // if set, the bound endpoint is written here (for launchers)
  Experiment experiment;      // dataset, model, number of clients, partitioner, seed
  std::string data_dir;       // empty: the dataset's default folder
  // The model's TorchScript archive as the user named it (--model torchscript:PATH); the model's
  // identity, experiment.model, is then "torchscript:<its SHA-256>". Empty for a built-in model.
  std::string model_file;
  // Dataset "local" (every client trains on its own files): an optional central test set, a
  // folder (its test split: test.pt, test.csv, official MNIST/CIFAR-10 files) or a .pt/.csv file.
  // Empty: no central evaluation; the clients evaluate (federated_eval).
  std::string test_data;
  // Input normalisation: "auto" (a public data set's reader's per-channel statistics; clients'
  // own data: none), "none" (uint8 inputs scaled to 0..1 and nothing more, float ones as they
  // are: torchvision's ToTensor() alone, as NIID-Bench trains), "given" (train.input_mean /
  // input_std, --input-mean / --input-std) or, for clients' own data only, "federated" (mean and
  // std computed from the sums the clients report at registration: only aggregates leave a site).
  std::string normalize = "auto";
  // Clients evaluate the global model on their own test data every eval_every rounds: "on", "off",
  // or "auto" (on for dataset local, off otherwise). federated_eval_fraction of the live clients
  // are asked (0: fraction's share).
  std::string federated_eval = "auto";
  double federated_eval_fraction = 0.0;
  TrainConfig train;  // sent to clients each round
  int rounds = 5;
  // Stop once a round's central test accuracy reaches this (McMahan et al.'s rounds-to-target
  // studies); 0: run every round. Synchronous rounds only.
  double target_accuracy = 0.0;
  int min_clients = 0;                  // logical clients to wait for before round 1; 0 = all
  double fraction = 1.0;                // share of registered clients sampled per round
  int min_fit = 1;                      // fewest sampled clients, and fewest answers to go on
  double round_timeout_s = 600;         // wait this long for updates, then go on with those in
  double registration_timeout_s = 300;  // wait this long for min_clients to register
  // Liveness: the coordinator sends every client process a heartbeat this often, and a process
  // it has heard nothing from for peer_timeout_s is lost (its tasks end as "lost" at once).
  double heartbeat_interval_s = 1.0;
  double peer_timeout_s = 10.0;
  // Megabytes of client updates granted and in transit at once (protocol 7 upload offers): with
  // the update being folded, what a burst of finished clients can make the coordinator hold. At
  // least one update is always let through, however large.
  double upload_memory_mb = 256;
  std::string aggregator = "fedavg";
  Options aggregator_options;
  std::vector<std::string> plugins;  // shared libraries registering more aggregators
  std::string out_dir;               // run directory; empty: runs/<timestamp>
  std::string device = "auto";       // for evaluating the global model
  int eval_batch_size = 1000;
  // Evaluate the global model after every N-th round (and the last); other rounds record no test
  // accuracy. Evaluation runs on a thread of its own while the next round trains.
  int eval_every = 1;
  // Security (docs/security.md): the coordinator's CURVE secret key file (flotilla-keys generate)
  // and the allowlist of client keys with the ids each may register. Both or neither.
  std::string curve_secret_key_file;
  std::string allowlist_file;
  // Allows a non-loopback bind without keys: no authentication, no encryption. Said loudly in the
  // log and in config.json.
  bool insecure = false;
  // Live view (docs/live_view.md): a web page, a JSON API and Prometheus /metrics served over HTTP
  // while the run goes, at "[HOST:]PORT" (a bare port is on 127.0.0.1; port 0 picks a free one).
  // Empty: off. The page shows who takes part, so an address other hosts can reach needs
  // live_view_token_file (a secret every request must carry), or `insecure`.
  std::string live_view;
  std::string live_view_token_file;  // the token, one line; empty: none asked for (loopback only)
  std::string live_view_url_file;    // if set, the page's URL is written here (for launchers)
  // How clients compress their updates (compression/codec_spec.h): "none", "fp16", "bf16",
  // "qsgd", "topk:ratio=0.01"... Made canonical (every option spelled out) when the run starts.
  std::string compression = "none";
  // How training proceeds (coordinator/training_policy.h; docs/topologies.md):
  //   mode "sync": rounds; "async": the coordinator keeps clients training and applies each
  //   update as it arrives, weighted by staleness (FedAsync) or K at a time (FedBuff);
  //   topology "star": through the coordinator; "ring-allreduce": the clients average their
  //   models among themselves (reduce-scatter + all-gather); "gossip": each client mixes with
  //   its neighbours on `graph` with `mixing` weights. Only sync rounds run decentralised.
  std::string mode = "sync";
  std::string topology = "star";
  std::string graph = "ring";             // gossip: ring | torus[:rows=R] | random-k:k=K | complete
  std::string mixing = "metropolis";      // gossip: metropolis | uniform
  std::string collective_sync = "model";  // ring-allreduce: model (after local training) | gradient (every step)
  double collective_timeout_s = 60;       // a peer silent this long fails a collective
  // Asynchronous training's options (async/async_options.h: mode, concurrency, buffer_size, alpha,
  // server_lr, staleness, dc_lambda, delay, clock, step_cost ...), --async-opt key=value.
  Options async_options;
  // Differential privacy (privacy/dp_options.h, docs/privacy.md): "off", "central" (DP-FedAvg: clients
  // clip, the coordinator adds the noise) or "local" (each client noises its own update); its
  // options (noise_multiplier, clip_norm, delta, target_epsilon, adaptive...) by --dp-opt key=value.
  std::string dp = "off";
  Options dp_options;
  // Secure aggregation (secagg/secagg_options.h, docs/privacy.md): "off" or "on" (the coordinator
  // learns only the sum of each round's updates); its options (threshold, neighbours, clip_norm,
  // stage_timeout...) by --secagg-opt key=value.
  std::string secagg = "off";
  Options secagg_options;
  int checkpoint_every = 1;  // write checkpoints/round_NNNN.{ckpt,pt} every N rounds; 0 = never
  // Continue the run in out_dir from its newest valid checkpoint instead of starting one. Not
  // part of config.json: it says how this process starts, not what the run is.
  bool resume = false;

  bool federated_eval_enabled() const {
    return federated_eval == "on" || (federated_eval == "auto" && experiment.dataset == kLocalDataset);
  }

  // Number of clients to sample this round, given how many are available.
  int sample_size(int available) const;

  // InvalidArgument naming the first bad field.
  Status validate() const;
};

// "curve", "loopback" (no keys, but only this host can connect) or "insecure".
std::string security_mode(const CoordinatorConfig& config);

// True for endpoints only this host can reach: tcp:// on 127.0.0.0/8, localhost or [::1],
// ipc:// and inproc://.
bool is_loopback_endpoint(const std::string& endpoint);

// Where --live-view serves: `host` as given ("*" becomes 0.0.0.0; an IPv6 address without its
// brackets), `port` 0..65535 (0: any free port).
struct LiveViewAddress {
  std::string host = "127.0.0.1";
  int port = 0;
};
// Parses "[HOST:]PORT": "8080", "127.0.0.1:8080", "localhost:0", "*:8080", "[::1]:8080".
// InvalidArgument saying what is wrong (the caller names the flag).
StatusOr<LiveViewAddress> parse_live_view_address(const std::string& text);
// True for hosts only this machine can reach: 127.0.0.0/8, localhost, ::1.
bool is_loopback_host(const std::string& host);

// The whole configuration as a JSON object (written to the run directory as config.json). Keys
// are the long flag names where there is one; train.seed is "train_seed".
std::string to_json(const CoordinatorConfig& config);

// Reads back everything to_json writes, e.g. a run's config.json when it resumes: unknown keys
// are ignored (room for configs of later versions), missing keys keep their defaults, a value of
// the wrong type (or an integer out of range) is InvalidArgument naming the key, as is text that
// is not a JSON object. Does not validate(): the caller does, as for flags.
StatusOr<CoordinatorConfig> config_from_json(const std::string& text);

// Hex SHA-256 identifying what determines a run's result, so a resumed run can refuse a
// checkpoint of another configuration. Counted: the experiment (dataset, model, clients,
// partitioner and its options, seed, holdout_fraction), the train config (epochs, batch_size, lr,
// momentum, weight_decay, train seed, prox_mu, augment, local_threads), fraction, min_fit, the
// aggregator name with its options as given (so "server_lr=1" and no option differ, though both
// mean 1.0), compression, and mode, topology, graph, mixing, collective_sync, async_options, dp,
// dp_options, secagg and secagg_options (these only when not their defaults, so that runs from
// before they existed resume).
// Not counted, so a resumed run may change them: rounds (extend a run), checkpoint_every,
// min_clients and the timeouts (when to start and stop waiting), bind, endpoint_file, out_dir,
// data_dir (where the same dataset lies), device, eval_batch_size and eval_every (evaluation only), plugins
// (paths; the aggregator's name is counted), and live_view, live_view_token_file and
// live_view_url_file (how the run is watched). A field added to CoordinatorConfig must be placed on
// one side of this list (config_fingerprint in the .cc, and its test).
std::string config_fingerprint(const CoordinatorConfig& config);

}  // namespace flotilla
