// flotilla-client: hosts one or more logical clients and trains them for a coordinator.
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "aggregators/aggregator.h"
#include "algorithms/builtin.h"
#include "client/client_host.h"
#include "core/id_ranges.h"
#include "core/log.h"
#include "core/plugin_loader.h"
#include "models/torchscript_archive.h"
#include "partitioners/partitioner.h"

int main(int argc, char** argv) {
  using namespace flotilla;
  CLI::App app{
      "Flotilla client: trains logical clients for a coordinator.\n"
      "Example: flotilla-client --connect tcp://host:5555 --client-ids 0-9"};
  app.set_config("--config", "", "read options from a TOML/INI file (keys are the long option names)");
  ClientOptions options;
  std::string ids_text, log_level = "info";
  int client_id = -1, threads = 0;
  double reconnect_timeout_s = 120, peer_timeout_s = 10, heartbeat_interval_s = 1;
  double state_memory_mb = 512;
  std::vector<std::string> plugins;
  app.add_option("--connect", options.connect, "coordinator endpoint, e.g. tcp://host:5555")->required();
  auto* one = app.add_option("--client-id", client_id, "the one logical client this process hosts")
                  ->check(CLI::NonNegativeNumber);
  auto* many = app.add_option("--client-ids", ids_text, "logical clients hosted here: 0-49 or 0,3,5-7");
  one->excludes(many);
  app.add_option("--coordinator-key", options.coordinator_key,
                 "the coordinator's CURVE public key: a .public file or the 40-character key; needs --key")
      ->group("Security");
  app.add_option("--key", options.key_file, "this client's CURVE key file (flotilla-keys generate)")->group("Security");
  app.add_option("--peer-bind", options.peer_bind,
                 "for decentralised rounds (ring-allreduce, gossip): where the other clients reach this one, e.g. "
                 "tcp://10.0.0.7:6000 or ipc:///tmp/run/peer-3 (a concrete port)");
  app.add_option("--data-dir", options.data_dir,
                 "dataset folder (default: the dataset's standard place); with --local-data, the site's own files");
  std::string own_model, pinned_sha;
  app.add_flag("--local-data", options.local_data,
               "train on this site's own files in --data-dir (train.pt/test.pt, train.csv/test.csv or the official "
               "MNIST/CIFAR-10 files; DIR/client_<id>/ per hosted client) instead of a share of a public data set; "
               "see docs/bring_your_own.md")
      ->group("Own data and models");
  app.add_option("--label-column", options.site.label_column, "CSV files: the column holding the labels")
      ->capture_default_str()
      ->group("Own data and models");
  app.add_flag("--withhold-label-counts", options.withhold_label_counts,
               "do not tell the coordinator how many samples of each class this site holds (registration and "
               "federated evaluation)")
      ->group("Own data and models");
  app.add_option("--model", own_model,
                 "torchscript:PATH: this client's own copy of the run's TorchScript archive (its SHA-256 must be the "
                 "run's)")
      ->group("Own data and models");
  app.add_option("--model-sha256", pinned_sha,
                 "run only the TorchScript archive with this SHA-256, and accept it if the coordinator ships it")
      ->group("Own data and models");
  app.add_flag("--trust-coordinator-model", options.model_trust.trust_shipped,
               "run whatever TorchScript archive the coordinator ships (code from the coordinator; prefer "
               "--model-sha256)")
      ->group("Own data and models");
  app.add_option("--device", options.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads for LibTorch (0 = LibTorch's default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--peer-timeout", peer_timeout_s, "the coordinator is lost after this many silent seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--heartbeat-interval", heartbeat_interval_s, "seconds between heartbeats to the coordinator")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--reconnect-timeout", reconnect_timeout_s,
                 "keep trying to (re)register for this many seconds, then exit with an error")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--plugin", plugins,
                 "shared library defining client halves of algorithms (repeatable; the coordinator's --plugin "
                 "libraries, see docs/algorithms.md)");
  app.add_option("--client-state-dir", options.state.dir,
                 "keep the logical clients' algorithm state (SCAFFOLD, FedDyn, MOON) here, so that a restarted "
                 "process continues it (default: memory, spilling to a temporary folder)");
  app.add_option("--client-state-memory", state_memory_mb,
                 "MB of algorithm state kept in memory for all logical clients together; the least recently used "
                 "beyond it go to disk")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--crash-at-round", options.crash_at_round, "fault injection: die on receiving round R's task")
      ->group("Testing");
  app.add_option("--hang-at-round", options.hang_at_round,
                 "fault injection: never finish round R's task, while heartbeats go on")
      ->group("Testing");
  std::string secagg_dropout;
  app.add_option("--secagg-dropout", secagg_dropout,
                 "fault injection: ROUND:STAGE[:exit], stop answering round ROUND's (all: every round's) secure "
                 "aggregation at STAGE (0 keys, 1 shares, 2 masked input, 3 unmasking); :exit ends the process there")
      ->group("Testing");
  app.add_option("--log-level", log_level, "debug | info | warning | error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  LogLevel level;
  if (!parse_log_level(log_level, &level)) {
    std::cerr << "error: --log-level '" << log_level << "' must be debug, info, warning or error\n";
    return 2;
  }
  set_log_level(level);
  if (client_id >= 0) ids_text = std::to_string(client_id);
  if (ids_text.empty()) {
    std::cerr << "error: give --client-id K or --client-ids A-B\n";
    return 2;
  }
  auto ids = parse_client_ids(ids_text);
  if (!ids.ok()) {
    std::cerr << "error: " << ids.status().message() << "\n";
    return 2;
  }
  options.client_ids = *ids;
  if (!own_model.empty()) {
    if (!is_torchscript_model(own_model)) {
      std::cerr << "error: --model on a client names its copy of a TorchScript archive (torchscript:PATH); built-in "
                   "models come from the coordinator\n";
      return 2;
    }
    auto resolved = resolve_model_name(own_model);
    if (!resolved.ok()) {
      std::cerr << "error: --model " << own_model << ": " << resolved.status().message() << "\n";
      return 2;
    }
    options.model_trust.own_sha256 = torchscript_sha_of(*resolved).value();
  }
  if (!pinned_sha.empty()) {
    if (!torchscript_sha_of(torchscript_model_name(pinned_sha)).ok()) {
      std::cerr << "error: --model-sha256 must be 64 lowercase hex digits, got '" << pinned_sha << "'\n";
      return 2;
    }
    options.model_trust.pinned_sha256 = pinned_sha;
  }
  if (!secagg_dropout.empty()) {
    // ROUND:STAGE, or all:STAGE for every round (the bench's steady dropout rate), and :exit for
    // a process that dies there.
    std::string text = secagg_dropout;
    bool exit = false;
    if (text.size() > 5 && text.compare(text.size() - 5, 5, ":exit") == 0) {
      exit = true;
      text.resize(text.size() - 5);
    }
    const size_t colon = text.find(':');
    int round = 0, stage = -1;
    const std::string round_text = text.substr(0, colon);
    try {
      round = round_text == "all" ? SecAggDropout::kEveryRound : std::stoi(round_text);
      stage = colon == std::string::npos ? -1 : std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
      round = 0;
    }
    if (colon == std::string::npos || round == 0 || round < SecAggDropout::kEveryRound || stage < 0 || stage > 3) {
      std::cerr << "error: --secagg-dropout '" << secagg_dropout
                << "' must be ROUND:STAGE[:exit] (ROUND >= 1 or all, STAGE 0..3)\n";
      return 2;
    }
    options.secagg_dropout = {round, stage, exit};
  }
  auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
  options.peer_timeout = ms(peer_timeout_s);
  options.heartbeat_interval = ms(heartbeat_interval_s);
  options.reconnect_timeout = ms(reconnect_timeout_s);
  if (options.peer_timeout < 2 * options.heartbeat_interval) {
    std::cerr << "error: --peer-timeout must be at least twice --heartbeat-interval\n";
    return 2;
  }
  options.state.memory_budget_bytes = static_cast<int64_t>(state_memory_mb * (1 << 20));
  auto algorithms = std::make_shared<ClientAlgorithmRegistry>("client half");
  if (Status s = register_builtin_client_algorithms(*algorithms); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  // A plugin registers both halves of its algorithms; the client keeps the client halves.
  AggregatorRegistry unused_aggregators("aggregator");
  PartitionerRegistry unused_partitioners("partitioner");
  PluginRegistrar registrar{&unused_aggregators, &unused_partitioners, algorithms.get()};
  for (const auto& path : plugins) {
    if (Status s = load_plugin(path, registrar); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 2;
    }
  }
  options.algorithms = std::move(algorithms);
  set_log_tag("client " + ids_text);
  if (threads > 0) at::set_num_threads(threads);

  ClientHost host(options);
  Status status = host.run();
  if (!status.ok()) {
    FLOTILLA_LOG(Error) << status;
    return 1;
  }
  return 0;
}
