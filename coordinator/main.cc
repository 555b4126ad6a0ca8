// flotilla-coordinator: runs federated rounds for clients that connect to it.
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "aggregators/aggregator.h"
#include "algorithms/builtin.h"
#include "compression/update_codec.h"
#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/plugin_loader.h"
#include "core/shape_text.h"
#include "datasets/dataset_loader.h"
#include "models/model_registry.h"
#include "partitioners/partitioner.h"
#include "partitioners/partitioner_flags.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// OK when this process knows the client half `aggregator` names, with options it accepts: the
// clients load the same built-ins and plugins, so a typo or a missing --plugin shows here, at
// start, and not as every client refusing round 1.
// Returns whether the half trains on the model's representation (ClientAlgorithm::needs_features).
// The key=value list of a repeatable flag (--async-opt, --dp-opt) into *out; false, after saying
// why on stderr, when an entry is no key=value.
bool parse_flag_options(const char* flag, const std::vector<std::string>& values, flotilla::Options* out) {
  auto parsed = flotilla::Options::parse(values);
  if (!parsed.ok()) {
    std::cerr << "error: " << flag << ": " << parsed.status().message() << "\n";
    return false;
  }
  *out = std::move(parsed).value();
  return true;
}

flotilla::StatusOr<bool> check_client_half(const flotilla::Aggregator& aggregator, const std::string& name,
                                           const flotilla::ClientAlgorithmRegistry& halves) {
  using namespace flotilla;
  const ClientHalf half = aggregator.client_half();
  if (!halves.contains(half.name))
    return failed_precondition_error("aggregator '" + name + "' trains clients with client half '" + half.name +
                                     "', which no built-in or --plugin defines; known: " + halves.joined_names());
  auto made = halves.create(half.name, Options(half.options));
  if (!made.ok()) return made.status().with_context("aggregator '" + name + "'");
  return (*made)->needs_features();
}

// Creates the aggregator, validates and runs; the exit code.
int run_coordinator(const flotilla::CoordinatorConfig& c, flotilla::AggregatorRegistry& aggregators,
                    const flotilla::ClientAlgorithmRegistry& client_halves) {
  using namespace flotilla;
  auto aggregator = aggregators.create(c.aggregator, c.aggregator_options);
  if (!aggregator.ok()) {
    std::cerr << "error: " << aggregator.status().message() << "\n";
    return 2;
  }
  auto needs_features = check_client_half(**aggregator, c.aggregator, client_halves);
  if (!needs_features.ok()) {
    std::cerr << "error: " << needs_features.status().message() << "\n";
    return 2;
  }
  if (Status s = c.validate(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Coordinator coordinator(c, std::move(aggregator).value(), *needs_features);
  Status status = coordinator.run(&g_stop);
  if (!status.ok()) {
    FLOTILLA_LOG(Error) << status;
    return status.code() == StatusCode::kAborted ? 130 : 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace flotilla;
  AggregatorRegistry aggregators("aggregator");
  ClientAlgorithmRegistry client_halves("client half");
  for (Status s : {register_builtin_aggregators(aggregators), register_builtin_algorithms(aggregators),
                   register_builtin_client_algorithms(client_halves)}) {
    if (!s.ok()) {
      std::cerr << "error: " << s << "\n";
      return 1;
    }
  }
  std::vector<std::string> model_names;
  for (const auto& m : list_models()) model_names.push_back(m.name);

  CLI::App app{
      "Flotilla coordinator: runs federated rounds over ZeroMQ.\n"
      "Example: flotilla-coordinator --bind tcp://*:5555 --clients 4 --dataset mnist --data-dir data/mnist"};
  app.set_config("--config", "", "read options from a TOML/INI file (keys are the long option names)");
  app.get_formatter()->column_width(36);
  CoordinatorConfig c;
  Experiment& ex = c.experiment;
  ex.dataset = "fashion-mnist";
  ex.model = "mnist_cnn";
  ex.num_clients = 4;
  ex.partitioner = "dirichlet";
  ex.seed = 42;
  // Every run measures each client's accuracy on its own held-out data before and after local
  // training, where non-IID drift shows first; 10% of a client's partition is held out for it.
  ex.holdout_fraction = 0.1;
  // The partitioner flags (partitioners/partitioner_flags.h). The shard and label counts are
  // copied in only when given, so that otherwise the scheme's own default applies.
  PartitionerFlags partitioner_flags;
  int shards_per_client = 2, labels_per_client = 2;
  std::vector<std::string> aggregator_opts;
  std::string log_level = "info";
  int threads = 0;
  bool list_aggregators = false;

  app.add_option("--bind", c.bind, "endpoint to listen on (tcp://127.0.0.1:* = any free port)")->capture_default_str();
  app.add_option("--endpoint-file", c.endpoint_file, "write the bound endpoint to this file");
  app.add_option("--curve-secret-key", c.curve_secret_key_file,
                 "the coordinator's CURVE key file (flotilla-keys generate): encrypts and authenticates every "
                 "connection; needs --allowlist")
      ->group("Security");
  app.add_option("--allowlist", c.allowlist_file,
                 "client keys allowed to connect, each with the client ids it may register (flotilla-keys allow)")
      ->group("Security");
  app.add_flag("--insecure", c.insecure, "allow a non-loopback --bind without keys: no authentication, no encryption")
      ->group("Security");
  app.add_option("--live-view", c.live_view,
                 "serve a live web page of the run, a JSON API and Prometheus /metrics at [HOST:]PORT (a bare port "
                 "is on 127.0.0.1, 0 picks a free one; docs/live_view.md)")
      ->group("Live view");
  app.add_option("--live-view-token-file", c.live_view_token_file,
                 "a secret (one line, 16+ characters) every live-view request must carry (Authorization: Bearer, or "
                 "?token=); needed for a HOST other hosts can reach, unless --insecure")
      ->group("Live view");
  app.add_option("--live-view-url-file", c.live_view_url_file, "write the live view's URL to this file")
      ->group("Live view");
  app.add_option("--clients", ex.num_clients, "number of logical clients (= data partitions)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--min-clients", c.min_clients, "clients to wait for before round 1 (0 = all)")->capture_default_str();
  app.add_option("--rounds", c.rounds, "federated rounds")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--fraction", c.fraction, "share of clients sampled per round")->capture_default_str();
  app.add_option("--target-accuracy", c.target_accuracy,
                 "stop once a round's test accuracy reaches this (0 = run every round)")
      ->capture_default_str();
  app.add_option("--min-fit", c.min_fit, "fewest clients sampled, and fewest answers to go on")->capture_default_str();
  app.add_option("--round-timeout", c.round_timeout_s, "seconds to wait for updates")->capture_default_str();
  app.add_option("--registration-timeout", c.registration_timeout_s, "seconds to wait for clients to register")
      ->capture_default_str();
  app.add_option("--peer-timeout", c.peer_timeout_s,
                 "a client process not heard from for this many seconds is lost (its tasks end at once)")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", c.heartbeat_interval_s, "seconds between heartbeats to each client process")
      ->capture_default_str();
  app.add_option("--upload-memory", c.upload_memory_mb,
                 "megabytes of client updates let in transit at once (at least one update always is); finished "
                 "clients wait their turn beyond it")
      ->capture_default_str();
  app.add_option("--dataset", ex.dataset,
                 "dataset: " + join(dataset_names()) + ", or local (each client trains on its own files: --local-data)")
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "dataset folder (default: the dataset's standard place)");
  app.add_option("--model", ex.model,
                 "model: " + join(model_names) +
                     ", or torchscript:PATH (your own PyTorch model, saved with "
                     "torch.jit.script(model).save(PATH); docs/bring_your_own.md)")
      ->capture_default_str();
  std::string input_shape;
  app.add_option("--test-data", c.test_data,
                 "--dataset local: a central test set, a folder (test.pt, test.csv, official files) or a .pt/.csv file "
                 "(default: none; the clients evaluate)")
      ->group("Clients' own data");
  app.add_option("--input-shape", input_shape,
                 "--dataset local: one sample's shape, e.g. 1x28x28, or 13 for 13 features (default: --test-data's)")
      ->group("Clients' own data");
  app.add_option("--num-classes", ex.num_classes, "--dataset local: classes of the model (default: --test-data's)")
      ->group("Clients' own data");
  app.add_option(
         "--normalize", c.normalize,
         "input normalisation: auto (a public data set's statistics; own data: none) | none (uint8 inputs / 255 "
         "only) | given (--input-mean/--input-std) | federated (--dataset local: mean and std from the clients' "
         "sums)")
      ->capture_default_str()
      ->group("Input normalisation");
  app.add_option("--input-mean", c.train.input_mean, "--normalize given: per-channel means (on the 0..1 scale)")
      ->delimiter(',')
      ->group("Input normalisation");
  app.add_option("--input-std", c.train.input_std, "--normalize given: per-channel standard deviations")
      ->delimiter(',')
      ->group("Input normalisation");
  app.add_option("--federated-eval", c.federated_eval,
                 "clients evaluate each evaluated round's model on their own test data: on | off | auto (on for "
                 "--dataset local)")
      ->capture_default_str();
  app.add_option("--federated-eval-fraction", c.federated_eval_fraction,
                 "share of the live clients asked to evaluate (0: --fraction)")
      ->capture_default_str();
  PartitionerRegistry partitioners("partitioner");
  if (Status s = register_builtin_partitioners(partitioners); !s.ok()) {
    std::cerr << "error: " << s << "\n";
    return 1;
  }
  // Each partitioner flag sets the scheme option of the same name; the help lists, from the
  // registry, the schemes that have it.
  auto schemes_taking = [&](const std::string& option) {
    std::vector<std::string> names;
    for (const auto* e : partitioners.entries())
      if (scheme_takes(*e, option)) names.push_back(e->name);
    return " (" + join(names) + ")";
  };
  app.add_option("--partitioner", ex.partitioner, "data split: " + join(partitioners.names()))
      ->check(CLI::IsMember(partitioners.names()))
      ->capture_default_str();
  app.add_option("--alpha", partitioner_flags.alpha,
                 "Dirichlet concentration, smaller = more skewed" + schemes_taking("alpha"))
      ->capture_default_str();
  app.add_option("--min-partition-size", partitioner_flags.min_partition_size,
                 "fewest samples per client" + schemes_taking("min_partition_size"))
      ->capture_default_str();
  CLI::Option* shards_flag = app.add_option("--shards-per-client", shards_per_client,
                                            "label-sorted shards per client" + schemes_taking("shards_per_client"))
                                 ->capture_default_str();
  CLI::Option* labels_flag = app.add_option("--labels-per-client", labels_per_client,
                                            "classes per client" + schemes_taking("labels_per_client"))
                                 ->capture_default_str();
  app.add_option("--partitioner-opt", partitioner_flags.extra,
                 "extra partitioner option key=value (repeatable; wins over the flags above)");
  app.add_option("--holdout-fraction", ex.holdout_fraction,
                 "share of each client's data held out for local accuracy before/after training (0 = off)")
      ->capture_default_str();
  app.add_option("--seed", ex.seed, "seed for partition, initial model, sampling and shuffling")->capture_default_str();
  app.add_option("--epochs", c.train.epochs, "local epochs per round")->capture_default_str();
  app.add_option("--batch-size", c.train.batch_size, "local batch size (0 = each client's whole training set)")
      ->capture_default_str();
  app.add_option("--lr", c.train.lr, "client learning rate")->capture_default_str();
  app.add_option("--momentum", c.train.momentum, "client SGD momentum")->capture_default_str();
  app.add_option("--weight-decay", c.train.weight_decay, "client weight decay")->capture_default_str();
  app.add_option("--prox-mu", c.train.prox_mu, "FedProx proximal term mu (0 = off)")->capture_default_str();
  app.add_option(
         "--augment", c.train.augment,
         "training-batch augmentation: none | crop_flip (pad-4 crop + flip) | crop_flip_reflect (reflection padding)")
      ->capture_default_str();
  app.add_option("--local-threads", c.train.local_threads,
                 "Hogwild: lock-free SGD threads per client on one model (CPU; 1 = the ordinary loop)")
      ->capture_default_str();
  app.add_option("--mode", c.mode,
                 "sync: rounds; async: keep clients training and apply each update as it arrives, weighted by "
                 "staleness (docs/topologies.md)")
      ->capture_default_str();
  std::vector<std::string> async_opts;
  app.add_option("--async-opt", async_opts,
                 "asynchronous option key=value (repeatable): mode=fedbuff|fedasync, buffer_size, alpha, server_lr, "
                 "staleness=constant|polynomial:a=0.5|hinge:a=10,b=4, dc_lambda, delay, clock=virtual|real, step_cost");
  app.add_option("--dp", c.dp,
                 "differential privacy (docs/privacy.md): off; central (DP-FedAvg: clients clip, the coordinator "
                 "adds Gaussian noise, Poisson sampling at --fraction); local (each client noises its own update)")
      ->capture_default_str();
  std::vector<std::string> dp_opts;
  app.add_option("--dp-opt", dp_opts,
                 "DP option key=value (repeatable): noise_multiplier, clip_norm, delta, target_epsilon, adaptive, "
                 "target_quantile, clip_lr, count_noise_multiplier");
  app.add_option("--secagg", c.secagg,
                 "secure aggregation (docs/privacy.md): on (the coordinator learns only each round's sum of updates; "
                 "SecAgg, or SecAgg+ with --secagg-opt neighbours=K) or off")
      ->capture_default_str();
  std::vector<std::string> secagg_opts;
  app.add_option("--secagg-opt", secagg_opts,
                 "secure aggregation option key=value (repeatable): threshold, neighbours, clip_norm, stage_timeout, "
                 "max_weight, record_masked_input");
  int concurrency = 0;
  app.add_option("--concurrency", concurrency, "async: clients training at once (= --async-opt concurrency=C)");
  app.add_option("--topology", c.topology,
                 "star: through the coordinator; ring-allreduce: clients average among themselves; gossip: clients "
                 "mix with graph neighbours")
      ->capture_default_str();
  app.add_option("--graph", c.graph, "gossip graph: ring | torus | random-k:k=K | complete")->capture_default_str();
  app.add_option("--mixing", c.mixing, "gossip weights: metropolis | uniform")->capture_default_str();
  app.add_option("--collective-sync", c.collective_sync,
                 "ring-allreduce: model (average after local training) | gradient (all-reduce every step)")
      ->capture_default_str();
  app.add_option("--collective-timeout", c.collective_timeout_s, "seconds a silent peer may stall a collective")
      ->capture_default_str();
  app.add_option("--aggregator", c.aggregator, "aggregation rule: " + join(aggregators.names()))->capture_default_str();
  app.add_option("--aggregator-opt", aggregator_opts, "aggregator option key=value (repeatable)");
  app.add_option("--plugin", c.plugins, "shared library adding aggregators (repeatable; see docs/aggregators.md)");
  app.add_flag("--list-aggregators", list_aggregators, "print the aggregation rules and their options, then exit");
  app.add_option("--out", c.out_dir, "run directory (default runs/<timestamp>)");
  app.add_option("--device", c.device, "device for evaluation: auto | cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads for LibTorch (0 = LibTorch's default)");
  app.add_option("--eval-batch-size", c.eval_batch_size, "batch size for test evaluation")->capture_default_str();
  app.add_option("--eval-every", c.eval_every,
                 "evaluate the global model after every N-th round and the last (in the background, while the next "
                 "round trains)")
      ->capture_default_str();
  app.add_option("--compression", c.compression,
                 "how clients compress their updates (trained minus global model): " +
                     join(flotilla::builtin_codecs().names()) +
                     ", with options as in topk:ratio=0.01,error_feedback=1 or qsgd:levels=127,bucket=1024 "
                     "(docs/performance.md)")
      ->capture_default_str();
  app.add_option("--checkpoint-every", c.checkpoint_every, "checkpoint every N rounds (0 = never)")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug | info | warning | error")->capture_default_str();
  std::string resume_dir;
  app.add_option("--resume", resume_dir,
                 "continue the run in RUN_DIR from its newest valid checkpoint; its config.json gives the "
                 "experiment, and only operational flags (endpoints, timeouts, --rounds, device, threads, keys) "
                 "may be given beside it");
  CLI11_PARSE(app, argc, argv);

  if (!resume_dir.empty()) {
    // The run's own config.json decides everything that shapes the result; flags that would change
    // it are refused rather than silently ignored.
    // Operational flags: the ones given override config.json's value, from one table so that what
    // is allowed and what is applied cannot drift apart. The rest of the allowed flags act outside
    // the run's configuration.
    using Override = void (*)(const CoordinatorConfig& given, CoordinatorConfig& run);
    static const std::map<std::string, Override> kOverrides = {
        {"--bind", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.bind = g.bind; }},
        {"--rounds", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.rounds = g.rounds; }},
        {"--round-timeout",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.round_timeout_s = g.round_timeout_s; }},
        {"--registration-timeout",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.registration_timeout_s = g.registration_timeout_s; }},
        {"--peer-timeout",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.peer_timeout_s = g.peer_timeout_s; }},
        {"--heartbeat-interval",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.heartbeat_interval_s = g.heartbeat_interval_s; }},
        {"--upload-memory",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.upload_memory_mb = g.upload_memory_mb; }},
        {"--min-clients", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.min_clients = g.min_clients; }},
        {"--device", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.device = g.device; }},
        {"--plugin", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.plugins = g.plugins; }},
        {"--data-dir", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.data_dir = g.data_dir; }},
        {"--eval-batch-size",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.eval_batch_size = g.eval_batch_size; }},
        {"--checkpoint-every",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.checkpoint_every = g.checkpoint_every; }},
        {"--eval-every", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.eval_every = g.eval_every; }},
        {"--test-data", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.test_data = g.test_data; }},
        {"--federated-eval",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.federated_eval = g.federated_eval; }},
        {"--federated-eval-fraction",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) {
           r.federated_eval_fraction = g.federated_eval_fraction;
         }},
        {"--curve-secret-key",
         [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.curve_secret_key_file = g.curve_secret_key_file; }},
        {"--allowlist", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.allowlist_file = g.allowlist_file; }},
        {"--insecure", [](const CoordinatorConfig& g, CoordinatorConfig& r) { r.insecure = g.insecure; }},
    };
    static const std::set<std::string> kOutsideTheConfig = {
        "--resume",    "--endpoint-file",        "--threads",           "--log-level", "--config",
        "--live-view", "--live-view-token-file", "--live-view-url-file"};
    for (const CLI::Option* option : app.get_options()) {
      const std::string& name = option->get_name();
      if (option->count() == 0 || kOverrides.count(name) > 0 || kOutsideTheConfig.count(name) > 0) continue;
      std::cerr << "error: " << name << " cannot be given with --resume: the run's config.json in " << resume_dir
                << " fixes it\n";
      return 2;
    }
    std::ifstream in(resume_dir + "/config.json");
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::cerr << "error: cannot resume " << resume_dir << ": no readable config.json there\n";
      return 2;
    }
    auto saved = config_from_json(text.str());
    if (!saved.ok()) {
      std::cerr << "error: cannot resume " << resume_dir << ": config.json: " << saved.status().message() << "\n";
      return 2;
    }
    CoordinatorConfig r = *saved;
    for (const auto& [flag, apply] : kOverrides)
      if (app.count(flag) > 0) apply(c, r);
    r.endpoint_file = c.endpoint_file;  // this process's, never the previous one's
    // How this process is watched, never how the previous one was.
    r.live_view = c.live_view;
    r.live_view_token_file = c.live_view_token_file;
    r.live_view_url_file = c.live_view_url_file;
    r.out_dir = resume_dir;
    r.resume = true;
    c = r;
  }

  // After parsing, so plugins named in a config file count too.
  PluginRegistrar registrar{&aggregators, &partitioners, &client_halves};
  for (const auto& path : c.plugins) {
    if (Status s = load_plugin(path, registrar); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 2;
    }
  }
  if (list_aggregators) {
    for (const auto* e : aggregators.entries()) {
      std::cout << e->name << ": " << e->description << "\n";
      if (auto made = aggregators.create(e->name); made.ok()) {
        const ClientHalf half = (*made)->client_half();
        if (half.name != kPlainSgd) std::cout << "    client half: " << half.name << "\n";
      }
      for (const auto& o : e->options)
        std::cout << "    " << o.name << " (default " << o.default_value << "): " << o.help << "\n";
    }
    return 0;
  }
  LogLevel level;
  if (!parse_log_level(log_level, &level)) {
    std::cerr << "error: --log-level '" << log_level << "' must be debug, info, warning or error\n";
    return 2;
  }
  set_log_level(level);
  set_log_tag("coordinator");
  if (threads > 0) at::set_num_threads(threads);

  if (c.resume) return run_coordinator(c, aggregators, client_halves);

  if (!input_shape.empty()) {
    auto shape = parse_shape_text(input_shape);
    if (shape.ok() && shape->size() > 3)
      shape = invalid_argument_error("'" + input_shape + "' has more than 3 dimensions");
    if (!shape.ok()) {
      std::cerr << "error: --input-shape: " << shape.status().message() << "\n";
      return 2;
    }
    ex.sample_shape = *shape;
  }
  if (app.count("--input-mean") > 0 && app.count("--normalize") == 0) c.normalize = "given";
  // --partitioner was checked against the registry by CLI11, so the scheme exists.
  std::vector<std::string> given_flags;
  for (const std::string& flag : partitioner_option_flags())
    if (app.count(flag) > 0) given_flags.push_back(flag);
  if (ex.dataset == kLocalDataset) {
    // The sites' own files are the split: nothing is partitioned.
    if (!given_flags.empty() || app.count("--partitioner") > 0) {
      std::cerr << "error: --dataset local trains each client on its own files; --partitioner and its options "
                   "split a public data set\n";
      return 2;
    }
    ex.partitioner = "none";
    given_flags.clear();
  }
  if (Status s =
          ex.dataset == kLocalDataset ? Status() : check_flags_apply(*partitioners.find(ex.partitioner), given_flags);
      !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  if (shards_flag->count() > 0) partitioner_flags.shards_per_client = shards_per_client;
  if (labels_flag->count() > 0) partitioner_flags.labels_per_client = labels_per_client;
  // The same mapping as flotilla-partition's, so that a preview with these flags is this run's split.
  auto partitioner_options = ex.dataset == kLocalDataset
                                 ? StatusOr<std::map<std::string, std::string>>(std::map<std::string, std::string>())
                                 : partitioner_options_from_flags(ex.partitioner, partitioner_flags);
  auto agg_options = Options::parse(aggregator_opts);
  if (!partitioner_options.ok() || !agg_options.ok()) {
    std::cerr << "error: " << (partitioner_options.ok() ? agg_options.status() : partitioner_options.status()).message()
              << "\n";
    return 2;
  }
  ex.partitioner_options = *partitioner_options;
  // Bad option values (--alpha 0, a misspelt --partitioner-opt key) fail now rather than after the
  // clients have connected and loaded their data.
  if (ex.dataset == kLocalDataset) {
    ex.partitioner_options.clear();
  } else if (auto made = partitioners.create(ex.partitioner, Options(ex.partitioner_options)); !made.ok()) {
    std::cerr << "error: " << made.status().message() << "\n";
    return 2;
  }
  c.train.seed = ex.seed;  // one seed drives partition, initial model, sampling and client shuffling
  c.aggregator_options = *agg_options;
  if (concurrency > 0) async_opts.push_back("concurrency=" + std::to_string(concurrency));
  if (!parse_flag_options("--async-opt", async_opts, &c.async_options) ||
      !parse_flag_options("--dp-opt", dp_opts, &c.dp_options) ||
      !parse_flag_options("--secagg-opt", secagg_opts, &c.secagg_options))
    return 2;
  return run_coordinator(c, aggregators, client_halves);
}
