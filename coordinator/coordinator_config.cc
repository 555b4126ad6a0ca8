#include "coordinator/coordinator_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "async/async_options.h"
#include "core/digest.h"
#include "privacy/dp_options.h"
#include "secagg/secagg_options.h"

namespace flotilla {
namespace {

using nlohmann::json;

// Typed reads of config_from_json's keys: a missing key leaves the default, a wrong type is an
// error naming the key.
class JsonFields {
 public:
  explicit JsonFields(const json& object) : object_(object) {}

  Status read(const char* key, std::string* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_string()) return wrong_type(key, "a string", *v);
    *out = v->get<std::string>();
    return Status();
  }
  Status read(const char* key, int* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_number_integer()) return wrong_type(key, "an integer", *v);
    if (v->is_number_unsigned() ? v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int>::max())
                                : (v->get<int64_t>() > std::numeric_limits<int>::max() ||
                                   v->get<int64_t>() < std::numeric_limits<int>::min()))
      return invalid_argument_error("config key '" + std::string(key) + "' is out of range: " + v->dump());
    *out = v->is_number_unsigned() ? static_cast<int>(v->get<uint64_t>()) : static_cast<int>(v->get<int64_t>());
    return Status();
  }
  Status read(const char* key, uint64_t* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_number_integer()) return wrong_type(key, "an integer", *v);
    if (!v->is_number_unsigned() && v->get<int64_t>() < 0)
      return invalid_argument_error("config key '" + std::string(key) + "' must be >= 0, got " + v->dump());
    *out = v->get<uint64_t>();
    return Status();
  }
  Status read(const char* key, bool* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_boolean()) return wrong_type(key, "true or false", *v);
    *out = v->get<bool>();
    return Status();
  }

  Status read(const char* key, double* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_number()) return wrong_type(key, "a number", *v);
    *out = v->get<double>();
    return Status();
  }
  Status read(const char* key, std::map<std::string, std::string>* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_object()) return wrong_type(key, "an object of strings", *v);
    std::map<std::string, std::string> values;
    for (const auto& [k, value] : v->items()) {
      if (!value.is_string()) return wrong_type((std::string(key) + "." + k).c_str(), "a string", value);
      values[k] = value.get<std::string>();
    }
    *out = std::move(values);
    return Status();
  }
  Status read(const char* key, int64_t* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX))
      return wrong_type(key, "an integer", *v);
    *out = v->get<int64_t>();
    return Status();
  }
  template <typename T>
  Status read(const char* key, std::vector<T>* out) const requires std::is_arithmetic_v<T> {
    const json* v = find(key);
    if (!v) return Status();
    const char* what = std::is_integral_v<T> ? "an array of integers" : "an array of numbers";
    if (!v->is_array()) return wrong_type(key, what, *v);
    std::vector<T> values;
    for (const auto& value : *v) {
      if (std::is_integral_v<T> ? !value.is_number_integer() : !value.is_number()) return wrong_type(key, what, *v);
      values.push_back(value.get<T>());
    }
    *out = std::move(values);
    return Status();
  }
  Status read(const char* key, std::vector<std::string>* out) const {
    const json* v = find(key);
    if (!v) return Status();
    if (!v->is_array()) return wrong_type(key, "an array of strings", *v);
    std::vector<std::string> values;
    for (const auto& value : *v) {
      if (!value.is_string()) return wrong_type(key, "an array of strings", *v);
      values.push_back(value.get<std::string>());
    }
    *out = std::move(values);
    return Status();
  }

 private:
  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  static Status wrong_type(const std::string& key, const char* expected, const json& got) {
    return invalid_argument_error("config key '" + key + "' must be " + expected + ", got " + got.type_name());
  }

  const json& object_;
};

Status validate_training_shape(const CoordinatorConfig& c);
Status validate_own_data(const CoordinatorConfig& c);
Status validate_live_view(const CoordinatorConfig& c);

}  // namespace

int CoordinatorConfig::sample_size(int available) const {
  const int wanted = static_cast<int>(std::ceil(fraction * static_cast<double>(available) - 1e-9));
  return std::min(available, std::max(min_fit, wanted));
}

Status CoordinatorConfig::validate() const {
  const int n = experiment.num_clients;
  if (n < 1) return invalid_argument_error("--clients must be >= 1, got " + std::to_string(n));
  if (rounds < 1) return invalid_argument_error("--rounds must be >= 1, got " + std::to_string(rounds));
  if (min_clients < 0 || min_clients > n)
    return invalid_argument_error("--min-clients must be in [0, --clients=" + std::to_string(n) + "]");
  if (!(fraction > 0 && fraction <= 1)) return invalid_argument_error("--fraction must be in (0, 1]");
  if (min_fit < 1 || min_fit > n)
    return invalid_argument_error("--min-fit must be in [1, --clients=" + std::to_string(n) + "]");
  if (!(round_timeout_s > 0)) return invalid_argument_error("--round-timeout must be > 0 seconds");
  if (!(registration_timeout_s > 0)) return invalid_argument_error("--registration-timeout must be > 0 seconds");
  if (!(heartbeat_interval_s > 0)) return invalid_argument_error("--heartbeat-interval must be > 0 seconds");
  if (!(peer_timeout_s >= 2 * heartbeat_interval_s))
    return invalid_argument_error("--peer-timeout must be at least twice --heartbeat-interval (" +
                                  std::to_string(heartbeat_interval_s) + " s), or a live client looks dead");
  if (!(upload_memory_mb > 0) || !std::isfinite(upload_memory_mb))
    return invalid_argument_error("--upload-memory must be a finite number of megabytes > 0");
  if (train.epochs < 1) return invalid_argument_error("--epochs must be >= 1");
  if (train.batch_size < 0)
    return invalid_argument_error("--batch-size must be >= 1, or 0 for each client's whole training set");
  if (!(train.lr > 0) || !std::isfinite(train.lr)) return invalid_argument_error("--lr must be a finite number > 0");
  if (train.momentum < 0 || train.momentum >= 1) return invalid_argument_error("--momentum must be in [0, 1)");
  if (train.weight_decay < 0) return invalid_argument_error("--weight-decay must be >= 0");
  if (train.prox_mu < 0) return invalid_argument_error("--prox-mu must be >= 0");
  if (!is_known_augment(train.augment))
    return invalid_argument_error("--augment must be none, crop_flip or crop_flip_reflect, got '" + train.augment +
                                  "'");
  if (experiment.holdout_fraction < 0 || experiment.holdout_fraction >= 1)
    return invalid_argument_error("--holdout-fraction must be in [0, 1)");
  if (eval_batch_size < 1) return invalid_argument_error("--eval-batch-size must be >= 1");
  if (eval_every < 1) return invalid_argument_error("--eval-every must be >= 1");
  if (checkpoint_every < 0) return invalid_argument_error("--checkpoint-every must be >= 0");
  if (train.local_threads < 1 || train.local_threads > 256)
    return invalid_argument_error("--local-threads must be in [1, 256], got " + std::to_string(train.local_threads));
  RETURN_IF_ERROR(validate_training_shape(*this));
  RETURN_IF_ERROR(validate_own_data(*this));
  if (curve_secret_key_file.empty() != allowlist_file.empty())
    return invalid_argument_error(
        "--curve-secret-key and --allowlist go together: the key encrypts, the allowlist says who may join");
  if (curve_secret_key_file.empty() && !insecure && !is_loopback_endpoint(bind))
    return invalid_argument_error(
        "--bind " + bind +
        " accepts connections from other hosts, and without CURVE anyone who reaches it could join the run and "
        "read the model. Give --curve-secret-key FILE and --allowlist FILE (flotilla-keys makes them; see "
        "docs/security.md), or pass --insecure to run unauthenticated and unencrypted anyway");
  return validate_live_view(*this);
}

namespace {

// Which combinations of mode and topology exist, and what each needs of the rest.
Status validate_training_shape(const CoordinatorConfig& c) {
  if (c.mode != "sync" && c.mode != "async")
    return invalid_argument_error("--mode must be sync or async, got '" + c.mode + "'");
  if (c.topology != "star" && c.topology != "ring-allreduce" && c.topology != "gossip")
    return invalid_argument_error("--topology must be star, ring-allreduce or gossip, got '" + c.topology + "'");
  if (c.mode == "async" && c.topology != "star")
    return invalid_argument_error("--mode async runs through the coordinator: it needs --topology star, not " +
                                  c.topology);
  if (c.mode == "sync" && !c.async_options.values().empty())
    return invalid_argument_error("--async-opt is for --mode async");
  if (c.mode == "async") {
    // Checked now, not after the clients have registered and loaded their data.
    if (auto async = async_config_from_options(c.async_options); !async.ok())
      return async.status().with_context("--async-opt");
  }
  if (c.dp != "off") {
    if (auto dp = dp_options_from(c.dp, c.dp_options); !dp.ok()) return dp.status();
    if (c.mode != "sync" || c.topology != "star")
      return invalid_argument_error("--dp needs synchronous rounds through the coordinator, not --mode " + c.mode +
                                    " --topology " + c.topology);
  } else if (!c.dp_options.values().empty()) {
    return invalid_argument_error("--dp-opt needs --dp central or --dp local");
  }
  if (!(c.target_accuracy >= 0 && c.target_accuracy <= 1))
    return invalid_argument_error("--target-accuracy must be in [0, 1] (0: run every round)");
  if (c.target_accuracy > 0 && (c.mode != "sync" || c.topology != "star"))
    return invalid_argument_error("--target-accuracy stops synchronous rounds through the coordinator, not --mode " +
                                  c.mode + " --topology " + c.topology);
  if (auto secagg = secagg_options_from(c.secagg, c.secagg_options); !secagg.ok()) return secagg.status();
  if (c.secagg != "off") {
    if (c.mode != "sync" || c.topology != "star")
      return invalid_argument_error("--secagg needs synchronous rounds through the coordinator, not --mode " + c.mode +
                                    " --topology " + c.topology);
    if (c.dp == "local")
      return invalid_argument_error(
          "--secagg with --dp local: local DP noises every update in full already; use --dp central, whose noise the "
          "clients then add in shares");
    if (c.compression != "none")
      return invalid_argument_error("--secagg masks the update itself: --compression " + c.compression +
                                    " cannot be combined with it");
  }
  if (c.mode == "async" && c.aggregator != "fedavg")
    return invalid_argument_error(
        "--mode async aggregates with its own rule (--async-opt mode=fedasync|fedbuff); "
        "--aggregator " +
        c.aggregator + " is for synchronous rounds");
  if (c.collective_sync != "model" && c.collective_sync != "gradient")
    return invalid_argument_error("--collective-sync must be model or gradient, got '" + c.collective_sync + "'");
  if (c.collective_sync == "gradient" && c.topology != "ring-allreduce")
    return invalid_argument_error("--collective-sync gradient (all-reduce every step) needs --topology ring-allreduce");
  if (c.collective_sync == "gradient" && c.train.local_threads != 1)
    return invalid_argument_error(
        "--collective-sync gradient averages every step's gradients from one thread: "
        "--local-threads must be 1");
  if (c.topology == "star") return Status();
  if (c.aggregator != "fedavg")
    return invalid_argument_error("--topology " + c.topology +
                                  " averages (or mixes) models among the clients; --aggregator " + c.aggregator +
                                  " needs the star topology");
  if (c.fraction != 1.0)
    return invalid_argument_error("--topology " + c.topology +
                                  " trains every client every round: --fraction must be 1");
  if (c.compression != "none")
    return invalid_argument_error("--compression applies to updates sent to the coordinator; --topology " + c.topology +
                                  " sends none");
  if (c.mixing != "metropolis" && c.mixing != "uniform")
    return invalid_argument_error("--mixing must be metropolis or uniform, got '" + c.mixing + "'");
  if (!(c.collective_timeout_s > 0) || !std::isfinite(c.collective_timeout_s))
    return invalid_argument_error("--collective-timeout must be > 0 seconds");
  return Status();
}

// Clients' own data and models: what a run of dataset local needs, and normalisation.
Status validate_own_data(const CoordinatorConfig& c) {
  const Experiment& e = c.experiment;
  const bool local = e.dataset == kLocalDataset;
  if (c.normalize != "auto" && c.normalize != "none" && c.normalize != "given" && c.normalize != "federated")
    return invalid_argument_error(
        "--normalize must be auto, none, federated or given (--input-mean/--input-std), got '" + c.normalize + "'");
  if ((c.normalize == "given") != !c.train.input_mean.empty())
    return invalid_argument_error(
        "--input-mean and --input-std give the normalisation: they go with --normalize given");
  if (c.train.input_mean.size() != c.train.input_std.size())
    return invalid_argument_error("--input-mean and --input-std need one value per channel each");
  for (double d : c.train.input_std)
    if (!(d > 0) || !std::isfinite(d)) return invalid_argument_error("--input-std values must be finite and > 0");
  for (double m : c.train.input_mean)
    if (!std::isfinite(m)) return invalid_argument_error("--input-mean values must be finite");
  if (c.normalize == "federated" && !local)
    return invalid_argument_error(
        "--normalize federated is for --dataset local (the statistics of the clients' own data); a public data set's "
        "reader knows its statistics (--normalize auto), or use none or given");
  if (!c.test_data.empty() && !local)
    return invalid_argument_error("--test-data is for --dataset local; the public data sets have their test split");
  if (c.federated_eval != "auto" && c.federated_eval != "on" && c.federated_eval != "off")
    return invalid_argument_error("--federated-eval must be on, off or auto, got '" + c.federated_eval + "'");
  if (!(c.federated_eval_fraction >= 0 && c.federated_eval_fraction <= 1))
    return invalid_argument_error("--federated-eval-fraction must be in [0, 1] (0: --fraction)");
  if (c.federated_eval == "on" && c.topology != "star")
    return invalid_argument_error("--federated-eval evaluates the coordinator's global model; --topology " +
                                  c.topology + " keeps the models on the clients");
  if (local && c.test_data.empty() && !c.federated_eval_enabled())
    return invalid_argument_error(
        "--dataset local without --test-data has no central test set: keep --federated-eval on (or auto), or the "
        "run would measure no accuracy at all");
  if (local && c.topology != "star")
    return invalid_argument_error("--dataset local trains through the coordinator: --topology star");
  if (local && c.test_data.empty() && (e.sample_shape.empty() || e.num_classes < 2))
    return invalid_argument_error(
        "--dataset local needs the model's input: --input-shape (e.g. 1x28x28, or 13 for 13 features) and "
        "--num-classes, or a central --test-data to read them from");
  if (!local && (!e.sample_shape.empty() || e.num_classes != 0))
    return invalid_argument_error(
        "--input-shape and --num-classes are for --dataset local; a public data set "
        "defines both");
  return Status();
}

// The same rule as --bind's: another host may see the page only with a token, or --insecure.
Status validate_live_view(const CoordinatorConfig& c) {
  if (c.live_view.empty()) {
    if (!c.live_view_token_file.empty() || !c.live_view_url_file.empty())
      return invalid_argument_error("--live-view-token-file and --live-view-url-file go with --live-view [HOST:]PORT");
    return Status();
  }
  auto address = parse_live_view_address(c.live_view);
  if (!address.ok()) return invalid_argument_error("--live-view " + address.status().message());
  if (!is_loopback_host(address->host) && c.live_view_token_file.empty() && !c.insecure)
    return invalid_argument_error(
        "--live-view " + c.live_view +
        " serves the run's page (which clients take part, from which hosts, how training goes) to other hosts. Give "
        "--live-view-token-file FILE (a secret every request must carry), or pass --insecure to serve it to anyone "
        "who reaches it");
  return Status();
}

}  // namespace

StatusOr<LiveViewAddress> parse_live_view_address(const std::string& text) {
  LiveViewAddress address;
  std::string port = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return invalid_argument_error("'" + text + "': an IPv6 host is written [ADDRESS]:PORT");
    address.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    const bool v6 = !address.host.empty() && std::all_of(address.host.begin(), address.host.end(), [](char ch) {
      return std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.';
    });
    if (!v6) return invalid_argument_error("'" + text + "': '" + address.host + "' is not an IPv6 address");
  } else if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
    address.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (address.host == "*") address.host = "0.0.0.0";
    if (address.host.find(':') != std::string::npos)
      return invalid_argument_error("'" + text + "': write an IPv6 host in brackets, [ADDRESS]:PORT");
    const bool name = !address.host.empty() && std::all_of(address.host.begin(), address.host.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-';
    });
    if (!name) return invalid_argument_error("'" + text + "': '" + address.host + "' is not a host name or address");
  }
  const bool digits = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char ch) {
    return std::isdigit(static_cast<unsigned char>(ch));
  });
  if (!digits || std::stoi(port) > 65535)
    return invalid_argument_error("'" + text + "': the port must be a number from 0 (any free port) to 65535, got '" +
                                  port + "'");
  address.port = std::stoi(port);
  return address;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  // An address, not a name that merely starts so ("127.example.org").
  return host.rfind("127.", 0) == 0 && std::all_of(host.begin(), host.end(), [](char ch) {
           return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.';
         });
}

bool is_loopback_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const std::string address = endpoint.substr(6);                  // host:port; [v6]:port
  const std::string host = address.substr(0, address.rfind(':'));  // the port follows the last colon
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]";
}

std::string security_mode(const CoordinatorConfig& c) {
  if (!c.curve_secret_key_file.empty()) return "curve";
  return is_loopback_endpoint(c.bind) ? "loopback" : "insecure";
}

std::string to_json(const CoordinatorConfig& c) {
  const Experiment& e = c.experiment;
  const TrainConfig& t = c.train;
  nlohmann::json j = {
      {"bind", c.bind},
      {"endpoint_file", c.endpoint_file},
      {"out_dir", c.out_dir},
      {"dataset", e.dataset},
      {"data_dir", c.data_dir},
      {"model", e.model},
      {"model_file", c.model_file},
      {"test_data", c.test_data},
      {"input_shape", e.sample_shape},
      {"num_classes", e.num_classes},
      {"normalize", c.normalize},
      {"input_mean", t.input_mean},
      {"input_std", t.input_std},
      {"federated_eval", c.federated_eval},
      {"federated_eval_fraction", c.federated_eval_fraction},
      {"clients", e.num_clients},
      {"partitioner", e.partitioner},
      {"partitioner_options", e.partitioner_options},
      {"seed", e.seed},
      {"holdout_fraction", e.holdout_fraction},
      {"rounds", c.rounds},
      {"target_accuracy", c.target_accuracy},
      {"min_clients", c.min_clients},
      {"fraction", c.fraction},
      {"min_fit", c.min_fit},
      {"round_timeout", c.round_timeout_s},
      {"registration_timeout", c.registration_timeout_s},
      {"heartbeat_interval", c.heartbeat_interval_s},
      {"peer_timeout", c.peer_timeout_s},
      {"upload_memory_mb", c.upload_memory_mb},
      {"epochs", t.epochs},
      {"batch_size", t.batch_size},
      {"lr", t.lr},
      {"momentum", t.momentum},
      {"weight_decay", t.weight_decay},
      {"prox_mu", t.prox_mu},
      {"augment", t.augment},
      {"train_seed", t.seed},
      {"aggregator", c.aggregator},
      {"aggregator_options", c.aggregator_options.values()},
      {"plugins", c.plugins},
      {"device", c.device},
      {"eval_batch_size", c.eval_batch_size},
      {"eval_every", c.eval_every},
      {"compression", c.compression},
      {"local_threads", t.local_threads},
      {"mode", c.mode},
      {"topology", c.topology},
      {"graph", c.graph},
      {"mixing", c.mixing},
      {"collective_sync", c.collective_sync},
      {"collective_timeout", c.collective_timeout_s},
      {"async_options", c.async_options.values()},
      {"dp", c.dp},
      {"dp_options", c.dp_options.values()},
      {"secagg", c.secagg},
      {"secagg_options", c.secagg_options.values()},
      {"checkpoint_every", c.checkpoint_every},
      {"security", security_mode(c)},
      {"curve_secret_key", c.curve_secret_key_file},
      {"allowlist", c.allowlist_file},
      {"insecure", c.insecure},
      {"live_view", c.live_view},
      {"live_view_token_file", c.live_view_token_file},
      {"live_view_url_file", c.live_view_url_file},
  };
  return j.dump(2) + "\n";
}

StatusOr<CoordinatorConfig> config_from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument_error("config is not valid JSON");
  if (!j.is_object()) return invalid_argument_error("config is not a JSON object");
  CoordinatorConfig c;
  Experiment& e = c.experiment;
  TrainConfig& t = c.train;
  const JsonFields f(j);
  std::map<std::string, std::string> aggregator_options = c.aggregator_options.values();
  std::map<std::string, std::string> async_options = c.async_options.values();
  std::map<std::string, std::string> dp_options = c.dp_options.values();
  std::map<std::string, std::string> secagg_options = c.secagg_options.values();
  for (Status s : {f.read("bind", &c.bind),
                   f.read("endpoint_file", &c.endpoint_file),
                   f.read("out_dir", &c.out_dir),
                   f.read("dataset", &e.dataset),
                   f.read("data_dir", &c.data_dir),
                   f.read("model", &e.model),
                   f.read("model_file", &c.model_file),
                   f.read("test_data", &c.test_data),
                   f.read("input_shape", &e.sample_shape),
                   f.read("num_classes", &e.num_classes),
                   f.read("normalize", &c.normalize),
                   f.read("input_mean", &t.input_mean),
                   f.read("input_std", &t.input_std),
                   f.read("federated_eval", &c.federated_eval),
                   f.read("federated_eval_fraction", &c.federated_eval_fraction),
                   f.read("clients", &e.num_clients),
                   f.read("partitioner", &e.partitioner),
                   f.read("partitioner_options", &e.partitioner_options),
                   f.read("seed", &e.seed),
                   f.read("holdout_fraction", &e.holdout_fraction),
                   f.read("rounds", &c.rounds),
                   f.read("target_accuracy", &c.target_accuracy),
                   f.read("min_clients", &c.min_clients),
                   f.read("fraction", &c.fraction),
                   f.read("min_fit", &c.min_fit),
                   f.read("round_timeout", &c.round_timeout_s),
                   f.read("registration_timeout", &c.registration_timeout_s),
                   f.read("heartbeat_interval", &c.heartbeat_interval_s),
                   f.read("peer_timeout", &c.peer_timeout_s),
                   f.read("upload_memory_mb", &c.upload_memory_mb),
                   f.read("epochs", &t.epochs),
                   f.read("batch_size", &t.batch_size),
                   f.read("lr", &t.lr),
                   f.read("momentum", &t.momentum),
                   f.read("weight_decay", &t.weight_decay),
                   f.read("prox_mu", &t.prox_mu),
                   f.read("augment", &t.augment),
                   f.read("train_seed", &t.seed),
                   f.read("aggregator", &c.aggregator),
                   f.read("aggregator_options", &aggregator_options),
                   f.read("plugins", &c.plugins),
                   f.read("device", &c.device),
                   f.read("eval_batch_size", &c.eval_batch_size),
                   f.read("eval_every", &c.eval_every),
                   f.read("compression", &c.compression),
                   f.read("local_threads", &t.local_threads),
                   f.read("mode", &c.mode),
                   f.read("topology", &c.topology),
                   f.read("graph", &c.graph),
                   f.read("mixing", &c.mixing),
                   f.read("collective_sync", &c.collective_sync),
                   f.read("collective_timeout", &c.collective_timeout_s),
                   f.read("async_options", &async_options),
                   f.read("dp", &c.dp),
                   f.read("dp_options", &dp_options),
                   f.read("secagg", &c.secagg),
                   f.read("secagg_options", &secagg_options),
                   f.read("checkpoint_every", &c.checkpoint_every),
                   f.read("curve_secret_key", &c.curve_secret_key_file),
                   f.read("allowlist", &c.allowlist_file),
                   f.read("insecure", &c.insecure),
                   f.read("live_view", &c.live_view),
                   f.read("live_view_token_file", &c.live_view_token_file),
                   f.read("live_view_url_file", &c.live_view_url_file)}) {
    RETURN_IF_ERROR(s);
  }
  c.aggregator_options = Options(std::move(aggregator_options));
  c.async_options = Options(std::move(async_options));
  c.dp_options = Options(std::move(dp_options));
  c.secagg_options = Options(std::move(secagg_options));
  return c;
}

std::string config_fingerprint(const CoordinatorConfig& c) {
  const Experiment& e = c.experiment;
  const TrainConfig& t = c.train;
  // nlohmann's objects are sorted maps and its numbers print as the shortest text that reads back
  // the same value, so equal configurations give the same text.
  json counted = {
      {"fingerprint_version", 1},
      {"dataset", e.dataset},
      {"model", e.model},
      {"clients", e.num_clients},
      {"partitioner", e.partitioner},
      {"partitioner_options", e.partitioner_options},
      {"seed", e.seed},
      {"holdout_fraction", e.holdout_fraction},
      {"epochs", t.epochs},
      {"batch_size", t.batch_size},
      {"lr", t.lr},
      {"momentum", t.momentum},
      {"weight_decay", t.weight_decay},
      {"train_seed", t.seed},
      {"prox_mu", t.prox_mu},
      {"augment", t.augment},
      {"fraction", c.fraction},
      {"min_fit", c.min_fit},
      {"aggregator", c.aggregator},
      {"aggregator_options", c.aggregator_options.values()},
      {"compression", c.compression},
  };
  // Added after fingerprint_version 1: counted only when not their defaults, so runs from before
  // them keep their fingerprint and resume.
  const CoordinatorConfig defaults;
  if (t.local_threads != defaults.train.local_threads) counted["local_threads"] = t.local_threads;
  if (c.mode != defaults.mode) counted["mode"] = c.mode;
  if (c.topology != defaults.topology) counted["topology"] = c.topology;
  if (c.topology == "gossip") {
    counted["graph"] = c.graph;
    counted["mixing"] = c.mixing;
  }
  if (c.topology == "ring-allreduce") counted["collective_sync"] = c.collective_sync;
  if (c.mode == "async") counted["async_options"] = c.async_options.values();
  if (c.dp != defaults.dp) {
    counted["dp"] = c.dp;
    counted["dp_options"] = c.dp_options.values();
  }
  if (c.secagg != defaults.secagg) {
    counted["secagg"] = c.secagg;
    counted["secagg_options"] = c.secagg_options.values();
  }
  // Clients' own data (protocol 8): counted only when used. The model's identity already names a
  // TorchScript archive by its digest; where the file lies (model_file, test_data) is not counted.
  if (!e.sample_shape.empty()) counted["input_shape"] = e.sample_shape;
  if (e.num_classes != 0) counted["num_classes"] = e.num_classes;
  // Clients' own data: "none" was the default before "auto" existed and means what "auto" means
  // there, so runs from before it resume.
  const bool default_scaling =
      c.normalize == defaults.normalize || (e.dataset == kLocalDataset && c.normalize == "none");
  if (!default_scaling) counted["normalize"] = c.normalize;
  if (!t.input_mean.empty()) {
    counted["input_mean"] = t.input_mean;
    counted["input_std"] = t.input_std;
  }
  return sha256_hex(counted.dump(-1, ' ', false, json::error_handler_t::replace));  // never throws
}

}  // namespace flotilla
