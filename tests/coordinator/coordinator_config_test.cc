#include "coordinator/coordinator_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

namespace flotilla {
namespace {

CoordinatorConfig valid() {
  CoordinatorConfig c;
  c.experiment.num_clients = 4;
  c.experiment.dataset = "synthetic";
  c.experiment.model = "mlp";
  return c;
}

TEST(CoordinatorConfigTest, DefaultsAreValid) { EXPECT_TRUE(valid().validate().ok()); }

TEST(CoordinatorConfigTest, DecentralisedTopologiesAreValid) {
  for (const char* topology : {"ring-allreduce", "gossip"}) {
    CoordinatorConfig c = valid();
    c.topology = topology;
    EXPECT_TRUE(c.validate().ok()) << topology << ": " << c.validate();
  }
  CoordinatorConfig data_parallel = valid();
  data_parallel.topology = "ring-allreduce";
  data_parallel.collective_sync = "gradient";
  EXPECT_TRUE(data_parallel.validate().ok()) << data_parallel.validate();
}

TEST(CoordinatorConfigTest, EachBadFieldIsNamed) {
  struct Case {
    void (*mutate)(CoordinatorConfig&);
    const char* flag;
  };
  const Case cases[] = {
      {[](CoordinatorConfig& c) { c.experiment.num_clients = 0; }, "--clients"},
      {[](CoordinatorConfig& c) { c.rounds = 0; }, "--rounds"},
      {[](CoordinatorConfig& c) { c.fraction = 0; }, "--fraction"},
      {[](CoordinatorConfig& c) { c.fraction = 1.5; }, "--fraction"},
      {[](CoordinatorConfig& c) { c.min_fit = 5; }, "--min-fit"},
      {[](CoordinatorConfig& c) { c.min_clients = 9; }, "--min-clients"},
      {[](CoordinatorConfig& c) { c.round_timeout_s = 0; }, "--round-timeout"},
      {[](CoordinatorConfig& c) { c.train.lr = -1; }, "--lr"},
      {[](CoordinatorConfig& c) { c.train.lr = std::nan(""); }, "--lr"},
      {[](CoordinatorConfig& c) { c.train.momentum = 1; }, "--momentum"},
      {[](CoordinatorConfig& c) { c.train.batch_size = -1; }, "--batch-size"},
      {[](CoordinatorConfig& c) { c.target_accuracy = 1.5; }, "--target-accuracy"},
      {[](CoordinatorConfig& c) {
         c.target_accuracy = 0.9;
         c.mode = "async";
       },
       "--target-accuracy stops synchronous rounds"},
      {[](CoordinatorConfig& c) { c.secagg = "maybe"; }, "--secagg must be on or off"},
      {[](CoordinatorConfig& c) {
         c.secagg = "on";
         c.compression = "fp16";
       },
       "--secagg masks the update itself"},
      {[](CoordinatorConfig& c) {
         c.secagg = "on";
         c.dp = "local";
       },
       "--secagg with --dp local"},
      {[](CoordinatorConfig& c) { c.train.epochs = 0; }, "--epochs"},
      {[](CoordinatorConfig& c) { c.experiment.holdout_fraction = 1; }, "--holdout-fraction"},
      {[](CoordinatorConfig& c) { c.train.augment = "flip"; }, "--augment"},
      {[](CoordinatorConfig& c) { c.topology = "mesh"; }, "--topology"},
      {[](CoordinatorConfig& c) { c.collective_sync = "gradient"; }, "--topology ring-allreduce"},
      {[](CoordinatorConfig& c) { c.collective_sync = "weights"; }, "--collective-sync"},
      {[](CoordinatorConfig& c) {
         c.topology = "ring-allreduce";
         c.collective_sync = "gradient";
         c.train.local_threads = 2;
       },
       "--local-threads"},
      {[](CoordinatorConfig& c) {
         c.topology = "gossip";
         c.fraction = 0.5;
       },
       "--fraction must be 1"},
      {[](CoordinatorConfig& c) {
         c.topology = "ring-allreduce";
         c.aggregator = "median";
       },
       "--aggregator median"},
      {[](CoordinatorConfig& c) {
         c.topology = "gossip";
         c.mode = "async";
       },
       "--mode async"},
      {[](CoordinatorConfig& c) {
         c.async_options = Options{{"mode", "fedbuff"}};
       },
       "--async-opt is for --mode async"},
      {[](CoordinatorConfig& c) { c.dp = "strong"; }, "--dp must be off, central or local"},
      {[](CoordinatorConfig& c) {
         c.dp = "central";
         c.dp_options = Options{{"noise_multiplier", "-1"}};
       },
       "--dp-opt noise_multiplier must be > 0"},
      {[](CoordinatorConfig& c) {
         c.dp_options = Options{{"clip_norm", "1"}};
       },
       "--dp-opt needs --dp"},
      {[](CoordinatorConfig& c) {
         c.dp = "central";
         c.mode = "async";
       },
       "--dp needs synchronous rounds"},
  };
  for (const auto& tc : cases) {
    CoordinatorConfig c = valid();
    tc.mutate(c);
    Status s = c.validate();
    SCOPED_TRACE(tc.flag);
    ASSERT_FALSE(s.ok()) << tc.flag;
    EXPECT_NE(s.message().find(tc.flag), std::string::npos) << s;
  }
}

CoordinatorConfig valid_local() {
  CoordinatorConfig c = valid();
  c.experiment.dataset = std::string(kLocalDataset);
  c.experiment.partitioner = "none";
  c.experiment.sample_shape = {1, 28, 28};
  c.experiment.num_classes = 10;
  return c;
}

TEST(CoordinatorConfigTest, ClientsOwnDataRunsAreValid) {
  EXPECT_TRUE(valid_local().validate().ok()) << valid_local().validate();
  CoordinatorConfig central = valid_local();
  central.experiment.sample_shape.clear();
  central.experiment.num_classes = 0;
  central.test_data = "/data/test.pt";  // gives the input
  central.federated_eval = "off";
  EXPECT_TRUE(central.validate().ok()) << central.validate();
  CoordinatorConfig given = valid_local();
  given.normalize = "given";
  given.train.input_mean = {0.1307};
  given.train.input_std = {0.3081};
  EXPECT_TRUE(given.validate().ok()) << given.validate();
  EXPECT_TRUE(valid_local().federated_eval_enabled());
  EXPECT_FALSE(valid().federated_eval_enabled());
}

// A public data set keeps its reader's statistics (auto), or takes none (pixels on 0..1, as
// NIID-Bench trains) or given ones; only federated needs clients' own data.
TEST(CoordinatorConfigTest, PublicDataSetsTakeNoneOrGivenNormalisation) {
  CoordinatorConfig c = valid();
  c.experiment.dataset = "cifar10";
  c.experiment.model = "cifar_cnn";
  EXPECT_EQ(c.normalize, "auto");
  c.normalize = "none";
  EXPECT_TRUE(c.validate().ok()) << c.validate();
  c.normalize = "given";
  c.train.input_mean = {0.49, 0.48, 0.45};
  c.train.input_std = {0.25, 0.24, 0.26};
  EXPECT_TRUE(c.validate().ok()) << c.validate();
}

// Fingerprints: none on a public data set is another run than auto; on clients' own data none
// was the old default and means what auto means there, so runs from before auto resume.
TEST(CoordinatorConfigTest, FingerprintTellsPublicNormalisationsApart) {
  CoordinatorConfig pub = valid();
  CoordinatorConfig raw = pub;
  raw.normalize = "none";
  EXPECT_NE(config_fingerprint(pub), config_fingerprint(raw));
  CoordinatorConfig local = valid_local();
  CoordinatorConfig local_none = local;
  local_none.normalize = "none";
  EXPECT_EQ(config_fingerprint(local), config_fingerprint(local_none));
}

TEST(CoordinatorConfigTest, EachBadOwnDataSettingIsNamed) {
  struct Case {
    void (*mutate)(CoordinatorConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](CoordinatorConfig& c) { c.experiment.sample_shape.clear(); }, "needs the model's input: --input-shape"},
      {[](CoordinatorConfig& c) { c.normalize = "zscore"; }, "--normalize must be auto, none, federated or given"},
      {[](CoordinatorConfig& c) { c.normalize = "given"; }, "--input-mean and --input-std give the normalisation"},
      {[](CoordinatorConfig& c) { c.train.input_mean = {0.5}; }, "go with --normalize given"},
      {[](CoordinatorConfig& c) {
         c.normalize = "given";
         c.train.input_mean = {0.5, 0.5};
         c.train.input_std = {0.2};
       },
       "one value per channel"},
      {[](CoordinatorConfig& c) {
         c.normalize = "given";
         c.train.input_mean = {0.5};
         c.train.input_std = {0};
       },
       "--input-std values must be finite and > 0"},
      {[](CoordinatorConfig& c) { c.federated_eval = "maybe"; }, "--federated-eval must be on, off or auto"},
      {[](CoordinatorConfig& c) { c.federated_eval_fraction = 2; }, "--federated-eval-fraction"},
      {[](CoordinatorConfig& c) { c.federated_eval = "off"; }, "no central test set"},
      {[](CoordinatorConfig& c) { c.topology = "gossip"; }, "--dataset local trains through the coordinator"},
      {[](CoordinatorConfig& c) {
         c.experiment.dataset = "mnist";
         c.test_data = "/data/test.pt";
         c.experiment.sample_shape.clear();
         c.experiment.num_classes = 0;
       },
       "--test-data is for --dataset local"},
      {[](CoordinatorConfig& c) { c.experiment.dataset = "mnist"; }, "--input-shape and --num-classes are for"},
      {[](CoordinatorConfig& c) {
         c.experiment.dataset = "mnist";
         c.experiment.sample_shape.clear();
         c.experiment.num_classes = 0;
         c.normalize = "federated";
       },
       "--normalize federated is for --dataset local"},
  };
  for (const auto& tc : cases) {
    CoordinatorConfig c = valid_local();
    tc.mutate(c);
    Status s = c.validate();
    SCOPED_TRACE(tc.message);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(tc.message), std::string::npos) << s;
  }
}

TEST(CoordinatorConfigTest, JsonCarriesEverySetting) {
  CoordinatorConfig c = valid();
  c.aggregator_options.set("server_lr", "0.5");
  c.experiment.partitioner_options["alpha"] = "0.1";
  auto j = nlohmann::json::parse(to_json(c));
  EXPECT_EQ(j["clients"], 4);
  EXPECT_EQ(j["dataset"], "synthetic");
  EXPECT_EQ(j["aggregator_options"]["server_lr"], "0.5");
  EXPECT_EQ(j["partitioner_options"]["alpha"], "0.1");
  EXPECT_DOUBLE_EQ(j["lr"].get<double>(), 0.01);
  EXPECT_EQ(j["augment"], "none");
}

// Every field away from its default, so a field that to_json or config_from_json forgets shows.
CoordinatorConfig everything_set() {
  CoordinatorConfig c;
  c.bind = "tcp://127.0.0.1:7777";
  c.endpoint_file = "/tmp/endpoint";
  c.experiment.dataset = "cifar10";
  c.experiment.model = "cifar_cnn";
  c.experiment.num_clients = 12;
  c.experiment.partitioner = "dirichlet";
  c.experiment.partitioner_options = {{"alpha", "0.3"}, {"min_size", "4"}};
  c.experiment.seed = 18446744073709551557ull;  // above INT64_MAX: must survive as unsigned
  c.experiment.holdout_fraction = 0.15;
  c.data_dir = "/data/cifar";
  c.train.epochs = 3;
  c.train.batch_size = 64;
  c.train.lr = 0.1 / 3;  // not short in decimal: must read back to the same double
  c.train.momentum = 0.5;
  c.train.weight_decay = 5e-4;
  c.train.seed = 99;
  c.train.prox_mu = 0.01;
  c.train.augment = "crop_flip";
  c.train.local_threads = 4;
  c.rounds = 40;
  c.target_accuracy = 0.99;
  c.min_clients = 10;
  c.fraction = 0.25;
  c.min_fit = 3;
  c.round_timeout_s = 123.5;
  c.registration_timeout_s = 45;
  c.heartbeat_interval_s = 0.25;
  c.peer_timeout_s = 7;
  c.upload_memory_mb = 64;
  c.aggregator = "fedadam";
  c.aggregator_options = Options{{"server_lr", "0.01"}, {"beta1", "0.8"}};
  c.plugins = {"/opt/a.so", "/opt/b.so"};
  c.out_dir = "/runs/x";
  c.device = "cuda:1";
  c.eval_batch_size = 256;
  c.eval_every = 3;
  c.compression = "fp16";
  c.checkpoint_every = 5;
  c.curve_secret_key_file = "/keys/coordinator.secret";
  c.allowlist_file = "/keys/allowlist.txt";
  c.insecure = true;
  c.mode = "async";
  c.topology = "gossip";
  c.graph = "torus:rows=3";
  c.mixing = "uniform";
  c.collective_sync = "gradient";
  c.collective_timeout_s = 12.5;
  c.async_options = Options{{"mode", "fedbuff"}, {"buffer_size", "4"}};
  c.dp = "central";
  c.dp_options = Options{{"noise_multiplier", "1.1"}};
  c.secagg = "on";
  c.secagg_options = Options{{"neighbours", "4"}};
  c.model_file = "/models/net.pt";
  c.test_data = "/data/test.pt";
  c.experiment.sample_shape = {3, 32, 32};
  c.experiment.num_classes = 10;
  c.normalize = "given";
  c.train.input_mean = {0.49, 0.48, 0.45};
  c.train.input_std = {0.25, 0.24, 0.26};
  c.federated_eval = "on";
  c.federated_eval_fraction = 0.5;
  c.live_view = "0.0.0.0:8080";
  c.live_view_token_file = "/keys/live-view.token";
  c.live_view_url_file = "/tmp/live-view.url";
  return c;
}

TEST(CoordinatorConfigTest, JsonRoundTripsEveryField) {
  const CoordinatorConfig c = everything_set();
  const std::string text = to_json(c);
  auto back = config_from_json(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(to_json(*back), text);
  EXPECT_EQ(config_fingerprint(*back), config_fingerprint(c));
  // Spot checks on the struct itself, for the fields to_json might drop on both sides.
  EXPECT_EQ(back->experiment.seed, c.experiment.seed);
  EXPECT_EQ(back->train.seed, 99u);
  EXPECT_EQ(back->train.lr, c.train.lr);
  EXPECT_EQ(back->endpoint_file, "/tmp/endpoint");
  EXPECT_EQ(back->out_dir, "/runs/x");
  EXPECT_EQ(back->plugins, c.plugins);
  EXPECT_EQ(back->aggregator_options.values(), c.aggregator_options.values());
  // Every key to_json writes differs from the default's, so none was read back as a default.
  const auto written = nlohmann::json::parse(text), defaults = nlohmann::json::parse(to_json(CoordinatorConfig()));
  for (const auto& [key, value] : written.items()) EXPECT_NE(value, defaults[key]) << key << " is left at its default";
}

TEST(CoordinatorConfigTest, FromJsonIgnoresUnknownKeysAndKeepsDefaultsForMissingOnes) {
  auto c = config_from_json(R"({"rounds": 9, "lr": 1, "from_the_future": {"x": [1, 2]}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 9);
  EXPECT_EQ(c->train.lr, 1.0);  // an integer where a number is wanted is fine
  EXPECT_EQ(c->bind, CoordinatorConfig().bind);
  EXPECT_EQ(c->aggregator, "fedavg");
  EXPECT_EQ(to_json(*config_from_json("{}")), to_json(CoordinatorConfig()));
}

TEST(CoordinatorConfigTest, FromJsonNamesTheKeyOfAWrongType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"rounds": "5"})", "'rounds'"},
      {R"({"rounds": 2.5})", "'rounds'"},
      {R"({"rounds": 99999999999})", "'rounds'"},
      {R"({"lr": null})", "'lr'"},
      {R"({"seed": -1})", "'seed'"},
      {R"({"bind": 5555})", "'bind'"},
      {R"({"plugins": "a.so"})", "'plugins'"},
      {R"({"plugins": ["a.so", 1]})", "'plugins'"},
      {R"({"aggregator_options": {"server_lr": 0.5}})", "'aggregator_options.server_lr'"},
      {R"({"partitioner_options": []})", "'partitioner_options'"},
      {R"([1, 2])", "not a JSON object"},
      {R"({"rounds": )", "not valid JSON"},
  };
  for (const auto& [text, expected] : cases) {
    auto c = config_from_json(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(expected), std::string::npos) << text << ": " << c.status();
  }
}

TEST(CoordinatorConfigTest, FingerprintCountsWhatDeterminesTheResult) {
  const CoordinatorConfig base = everything_set();
  const std::string fingerprint = config_fingerprint(base);
  EXPECT_EQ(fingerprint.size(), 64u);
  EXPECT_EQ(fingerprint, config_fingerprint(everything_set()));
  using Mutation = void (*)(CoordinatorConfig&);
  const std::vector<std::pair<const char*, Mutation>> counted = {
      {"dataset", [](CoordinatorConfig& c) { c.experiment.dataset = "mnist"; }},
      {"model", [](CoordinatorConfig& c) { c.experiment.model = "mlp"; }},
      {"clients", [](CoordinatorConfig& c) { c.experiment.num_clients = 13; }},
      {"partitioner", [](CoordinatorConfig& c) { c.experiment.partitioner = "iid"; }},
      {"partitioner_options", [](CoordinatorConfig& c) { c.experiment.partitioner_options["alpha"] = "0.4"; }},
      {"seed", [](CoordinatorConfig& c) { c.experiment.seed = 1; }},
      {"holdout_fraction", [](CoordinatorConfig& c) { c.experiment.holdout_fraction = 0.2; }},
      {"epochs", [](CoordinatorConfig& c) { c.train.epochs = 4; }},
      {"batch_size", [](CoordinatorConfig& c) { c.train.batch_size = 32; }},
      {"lr", [](CoordinatorConfig& c) { c.train.lr = std::nextafter(0.1 / 3, 1.0); }},
      {"momentum", [](CoordinatorConfig& c) { c.train.momentum = 0.9; }},
      {"weight_decay", [](CoordinatorConfig& c) { c.train.weight_decay = 0; }},
      {"train seed", [](CoordinatorConfig& c) { c.train.seed = 100; }},
      {"prox_mu", [](CoordinatorConfig& c) { c.train.prox_mu = 0; }},
      {"augment", [](CoordinatorConfig& c) { c.train.augment = "none"; }},
      {"fraction", [](CoordinatorConfig& c) { c.fraction = 0.5; }},
      {"min_fit", [](CoordinatorConfig& c) { c.min_fit = 2; }},
      {"aggregator", [](CoordinatorConfig& c) { c.aggregator = "fedyogi"; }},
      {"aggregator_options", [](CoordinatorConfig& c) { c.aggregator_options.set("tau", "0.001"); }},
      {"compression", [](CoordinatorConfig& c) { c.compression = "none"; }},
      {"input_shape",
       [](CoordinatorConfig& c) {
         c.experiment.sample_shape = {1, 32, 32};
       }},
      {"num_classes", [](CoordinatorConfig& c) { c.experiment.num_classes = 100; }},
      {"normalize", [](CoordinatorConfig& c) { c.normalize = "federated"; }},
      {"input_mean", [](CoordinatorConfig& c) { c.train.input_mean[0] = 0.5; }},
      {"input_std", [](CoordinatorConfig& c) { c.train.input_std[2] = 0.3; }},
      {"dp", [](CoordinatorConfig& c) { c.dp = "local"; }},
      {"dp_options", [](CoordinatorConfig& c) { c.dp_options.set("clip_norm", "0.1"); }},
      {"secagg", [](CoordinatorConfig& c) { c.secagg = "off"; }},
      {"secagg_options", [](CoordinatorConfig& c) { c.secagg_options.set("threshold", "0.7"); }},
  };
  for (const auto& [field, mutate] : counted) {
    CoordinatorConfig c = everything_set();
    mutate(c);
    EXPECT_NE(config_fingerprint(c), fingerprint) << field << " must count";
  }
  const std::vector<std::pair<const char*, Mutation>> not_counted = {
      {"rounds", [](CoordinatorConfig& c) { c.rounds = 400; }},
      {"target_accuracy", [](CoordinatorConfig& c) { c.target_accuracy = 0.5; }},
      {"bind", [](CoordinatorConfig& c) { c.bind = "tcp://*:1"; }},
      {"endpoint_file", [](CoordinatorConfig& c) { c.endpoint_file = ""; }},
      {"round_timeout", [](CoordinatorConfig& c) { c.round_timeout_s = 1; }},
      {"registration_timeout", [](CoordinatorConfig& c) { c.registration_timeout_s = 1; }},
      {"heartbeat_interval", [](CoordinatorConfig& c) { c.heartbeat_interval_s = 2; }},
      {"peer_timeout", [](CoordinatorConfig& c) { c.peer_timeout_s = 30; }},
      {"upload_memory_mb", [](CoordinatorConfig& c) { c.upload_memory_mb = 1024; }},
      {"min_clients", [](CoordinatorConfig& c) { c.min_clients = 12; }},
      {"checkpoint_every", [](CoordinatorConfig& c) { c.checkpoint_every = 1; }},
      {"out_dir", [](CoordinatorConfig& c) { c.out_dir = "/elsewhere"; }},
      {"data_dir", [](CoordinatorConfig& c) { c.data_dir = "/mnt/cifar"; }},
      {"device", [](CoordinatorConfig& c) { c.device = "cpu"; }},
      {"eval_batch_size", [](CoordinatorConfig& c) { c.eval_batch_size = 1000; }},
      {"eval_every", [](CoordinatorConfig& c) { c.eval_every = 1; }},
      {"plugins", [](CoordinatorConfig& c) { c.plugins = {"/elsewhere/a.so"}; }},
      {"curve_secret_key", [](CoordinatorConfig& c) { c.curve_secret_key_file = "/other.secret"; }},
      {"allowlist", [](CoordinatorConfig& c) { c.allowlist_file = "/other.txt"; }},
      {"insecure", [](CoordinatorConfig& c) { c.insecure = false; }},
      {"model_file", [](CoordinatorConfig& c) { c.model_file = "/moved/net.pt"; }},
      {"test_data", [](CoordinatorConfig& c) { c.test_data = "/moved/test.pt"; }},
      {"federated_eval", [](CoordinatorConfig& c) { c.federated_eval = "off"; }},
      {"federated_eval_fraction", [](CoordinatorConfig& c) { c.federated_eval_fraction = 0.1; }},
      {"live_view", [](CoordinatorConfig& c) { c.live_view = "9090"; }},
      {"live_view_token_file", [](CoordinatorConfig& c) { c.live_view_token_file = ""; }},
      {"live_view_url_file", [](CoordinatorConfig& c) { c.live_view_url_file = "/elsewhere/url"; }},
  };
  for (const auto& [field, mutate] : not_counted) {
    CoordinatorConfig c = everything_set();
    mutate(c);
    EXPECT_EQ(config_fingerprint(c), fingerprint) << field << " must not count";
  }
}

}  // namespace
}  // namespace flotilla

namespace flotilla {
namespace {

TEST(CoordinatorConfigTest, LoopbackEndpointsAreToldApart) {
  for (const char* e : {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://localhost:1", "tcp://[::1]:9",
                        "ipc:///tmp/f", "inproc://x"})
    EXPECT_TRUE(is_loopback_endpoint(e)) << e;
  for (const char* e : {"tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://10.0.0.1:1", "tcp://eth0:5555", "tcp://[::]:1"})
    EXPECT_FALSE(is_loopback_endpoint(e)) << e;
}

TEST(CoordinatorConfigTest, NonLoopbackBindNeedsKeysOrInsecure) {
  CoordinatorConfig c;
  c.experiment.num_clients = 2;
  c.bind = "tcp://*:5555";
  Status s = c.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--curve-secret-key"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--insecure"), std::string::npos) << s.message();
  c.insecure = true;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_EQ(security_mode(c), "insecure");
  c.insecure = false;
  c.curve_secret_key_file = "k.secret";
  EXPECT_FALSE(c.validate().ok()) << "a key without an allowlist";
  c.allowlist_file = "allow.txt";
  EXPECT_TRUE(c.validate().ok());
  EXPECT_EQ(security_mode(c), "curve");
  c = CoordinatorConfig();
  c.experiment.num_clients = 2;
  EXPECT_TRUE(c.validate().ok()) << "the default bind is loopback";
  EXPECT_EQ(security_mode(c), "loopback");
}

}  // namespace
}  // namespace flotilla

namespace flotilla {
namespace {

TEST(CoordinatorConfigTest, LiveViewAddressesParse) {
  const std::vector<std::tuple<std::string, std::string, int>> good = {
      {"8080", "127.0.0.1", 8080},         {"0", "127.0.0.1", 0},
      {"127.0.0.2:1", "127.0.0.2", 1},     {"localhost:0", "localhost", 0},
      {"*:65535", "0.0.0.0", 65535},       {"[::1]:8080", "::1", 8080},
      {"10.0.0.7:9000", "10.0.0.7", 9000}, {"node-3.cluster:80", "node-3.cluster", 80}};
  for (const auto& [text, host, port] : good) {
    auto address = parse_live_view_address(text);
    ASSERT_TRUE(address.ok()) << text << ": " << address.status();
    EXPECT_EQ(address->host, host) << text;
    EXPECT_EQ(address->port, port) << text;
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "port"},       {"http", "port"},  {"65536", "port"},        {"-1", "port"},
      {":8080", "host"},  {"a b:1", "host"}, {"::1:8080", "brackets"}, {"[::1]", "[ADDRESS]:PORT"},
      {"[zz]:1", "IPv6"}, {"host:", "port"}, {"host:80x", "port"},     {"1234567", "port"}};
  for (const auto& [text, expected] : bad) {
    auto address = parse_live_view_address(text);
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_NE(address.status().message().find(expected), std::string::npos) << text << ": " << address.status();
  }
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "10.0.0.1", "::", "127.example.org", "localhost.example.org"})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

// The live view follows --bind's rule: another host may see the page only with a token, or
// --insecure.
TEST(CoordinatorConfigTest, LiveViewOffLoopbackNeedsATokenOrInsecure) {
  CoordinatorConfig c = valid();
  c.live_view = "8080";
  EXPECT_TRUE(c.validate().ok()) << c.validate();
  c.live_view = "0.0.0.0:8080";
  Status s = c.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--live-view-token-file"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--insecure"), std::string::npos) << s;
  c.live_view_token_file = "token";
  EXPECT_TRUE(c.validate().ok()) << c.validate();
  c.live_view_token_file.clear();
  c.insecure = true;
  EXPECT_TRUE(c.validate().ok()) << c.validate();

  CoordinatorConfig bad = valid();
  bad.live_view = "99999";
  s = bad.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("--live-view ", 0), 0u) << s;
  for (auto set : {+[](CoordinatorConfig& x) { x.live_view_token_file = "t"; },
                   +[](CoordinatorConfig& x) { x.live_view_url_file = "u"; }}) {
    CoordinatorConfig alone = valid();
    set(alone);
    s = alone.validate();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("go with --live-view"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace flotilla
