#include "coordinator/coordinator.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compression/codec_spec.h"
#include "coordinator/async_training.h"
#include "coordinator/background_evaluator.h"
#include "coordinator/checkpoint.h"
#include "coordinator/client_hub.h"
#include "coordinator/collective_training.h"
#include "coordinator/live_status.h"
#include "coordinator/live_view_server.h"
#include "coordinator/measure.h"
#include "coordinator/own_data.h"
#include "coordinator/privacy_stage.h"
#include "coordinator/round_committer.h"
#include "coordinator/run_recorder.h"
#include "coordinator/secure_aggregation_stage.h"
#include "coordinator/sync_training.h"
#include "coordinator/update_intake.h"
#include "core/atomic_file.h"
#include "core/digest.h"
#include "core/log.h"
#include "datasets/csv_table.h"
#include "datasets/dataset_loader.h"
#include "datasets/site_data.h"
#include "datasets/tensor_file.h"
#include "models/model_check.h"
#include "models/torchscript_archive.h"
#include "models/torchscript_model.h"
#include "partitioners/random.h"
#include "privacy/dp_options.h"
#include "privacy/gaussian_noise.h"
#include "training/device.h"
#include "training/experiment_setup.h"
#include "transport/allowlist.h"
#include "transport/curve_keys.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
// Room in the receive limits beyond the model's own tensors: the envelope (header, metrics) and a
// few frames more than any message of this protocol version carries.
constexpr int64_t kEnvelopeAllowance = int64_t{1} << 20;
constexpr int kExtraFramesAllowed = 8;
constexpr uint64_t kSecAggGraphStream = 0x53414752ULL;  // "SAGR": the seed stream of secure aggregation's graphs

std::string default_run_dir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", &tm);
  return buf;
}

Status write_endpoint_file(const std::string& path, const std::string& endpoint,
                           const std::string& what = "endpoint file") {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << endpoint << "\n";
    if (!out) return unavailable_error("cannot write " + what + " " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return unavailable_error("cannot write " + what + " " + path + ": " + ec.message());
  return Status();
}

// The run's copy of its TorchScript archive (what --resume falls back on).
constexpr const char* kArchiveCopy = "model_archive.pt";

std::string join_numbers(const std::vector<double>& values) {
  std::string out;
  char buf[32];
  for (double v : values) {
    std::snprintf(buf, sizeof buf, "%.6g", v);
    out += (out.empty() ? "" : ",") + std::string(buf);
  }
  return out;
}

// --test-data: a folder (test.pt, test.csv, or a data set's test split) or one .pt / .csv file.
StatusOr<TensorDataset> read_test_data(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    // A folder of test files alone (no training files beside them) is a central test set too.
    if (std::filesystem::exists(path + "/test.pt")) return read_tensor_file(path + "/test.pt");
    if (std::filesystem::exists(path + "/test.csv"))
      return read_csv_dataset(path + "/test.csv", SiteDataOptions().label_column);
    ASSIGN_OR_RETURN(DatasetSplits splits, load_site_dir(path, SiteDataOptions()));
    if (splits.test.size() == 0)
      return not_found_error("--test-data " + path +
                             " has no test split (test.pt, test.csv, t10k-* or test_batch.bin)");
    return splits.test;
  }
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0)
    return read_csv_dataset(path, SiteDataOptions().label_column);
  return read_tensor_file(path);
}

Status write_normalisation(const std::string& path, const std::vector<double>& mean, const std::vector<double>& std,
                           int clients) {
  const nlohmann::json j = {{"mean", mean}, {"std", std}, {"clients", clients}};
  return write_file_atomically(path, j.dump(2) + "\n");
}

StatusOr<std::pair<std::vector<double>, std::vector<double>>> read_normalisation(const std::string& path) {
  std::ifstream in(path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mean") || !j.contains("std") || !j["mean"].is_array() ||
      !j["std"].is_array() || j["mean"].size() != j["std"].size())
    return data_loss_error(path +
                           " is not the normalisation this coordinator wrote ({\"mean\": [...], \"std\": [...]})");
  std::vector<double> mean, deviation;
  for (const auto& v : j["mean"]) {
    if (!v.is_number()) return data_loss_error(path + ": a mean that is not a number");
    mean.push_back(v.get<double>());
  }
  for (const auto& v : j["std"]) {
    if (!v.is_number() || !(v.get<double>() > 0)) return data_loss_error(path + ": a std that is not a number > 0");
    deviation.push_back(v.get<double>());
  }
  return std::pair{std::move(mean), std::move(deviation)};
}

}  // namespace

class Coordinator::Impl {
 public:
  Impl(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator, bool client_half_needs_features)
      : config_(std::move(config)),
        aggregator_(std::move(aggregator)),
        client_half_needs_features_(client_half_needs_features) {}

  const std::string& run_dir() const { return run_dir_; }

  Status run(const std::atomic<bool>* stop) {
    stop_ = stop;
    RETURN_IF_ERROR(setup());
    if (live_) live_->on_run_started(run_info());
    // A resumed run whose rounds are all done has nothing left to train: it writes its final
    // model (its last checkpoint's) at once instead of waiting for clients only to dismiss them.
    const bool rounds_left = first_round_ <= config_.rounds;
    if (!rounds_left)
      FLOTILLA_LOG(Info) << "every round of " << run_dir_ << " is done (" << first_round_ - 1 << " of "
                         << config_.rounds << "): writing its final model without clients";
    Status status = rounds_left ? wait_for_clients() : Status();
    if (status.ok() && rounds_left) status = settle_own_data();
    if (status.ok() && rounds_left) {
      auto policy = make_policy();
      status = policy.ok() ? (*policy)->run(first_round_) : policy.status();
    }
    // The last round is evaluated in the background too; it (or, after a failure, the round
    // before) is recorded before the run ends.
    if (Status committed = committer_->flush(); status.ok()) status = committed;
    if (status.ok()) {
      status = recorder_->save_final(global_);
      // A TorchScript model also ends as an archive with the final weights, which Python's
      // torch.jit.load runs without the user's class.
      if (status.ok() && model_archive_)
        status = save_torchscript_with_state(model_sha256_, global_, run_dir_ + "/model_final.torchscript.pt");
      if (rounds_left)
        std::printf("done %d rounds, final accuracy %.4f, run directory %s\n",
                    std::max(committer_->last_round(), first_round_ - 1), committer_->last_accuracy(),
                    run_dir_.c_str());
      else
        std::printf("done %d rounds (all before this resume), run directory %s\n", first_round_ - 1, run_dir_.c_str());
      std::fflush(stdout);
    }
    hub_->shutdown(status.ok() ? "run finished" : "run failed: " + status.message());
    if (live_) live_->on_run_finished(status.ok(), status.message());
    return status;
  }

 private:
  bool stopping() const { return stop_ && stop_->load(); }

  Status setup() {
    RETURN_IF_ERROR(config_.validate());
    RETURN_IF_ERROR(start_live_view());
    // The canonical spec (every option spelled out) is what tasks name and the run records.
    auto codec = parse_codec_spec(config_.compression);
    if (!codec.ok()) return codec.status().with_context("--compression");
    config_.compression = to_string(*codec);
    std::unique_ptr<UpdateCodec> decoder;  // null: "none"
    if (codec->name != "none") {
      ASSIGN_OR_RETURN(decoder, make_codec(*codec));
    }
    ASSIGN_OR_RETURN(device_, resolve_device(config_.device));
    run_dir_ = config_.out_dir.empty() ? default_run_dir() : config_.out_dir;
    RETURN_IF_ERROR(load_model_archive());
    const Experiment& ex = config_.experiment;
    const bool local = ex.dataset == kLocalDataset;
    client_class_counts_.assign(static_cast<size_t>(ex.num_clients), {});
    client_samples_.assign(static_cast<size_t>(ex.num_clients), 0);
    // Public data: the training set is needed only here (labels for the partition, shapes for the
    // model) and is freed when setup returns. Clients' own data: the coordinator holds none of it,
    // at most a central test set.
    TensorDataset test;
    if (local) {
      ASSIGN_OR_RETURN(test, load_central_test_set());
      ASSIGN_OR_RETURN(model_, create_initial_model(ex));
      FLOTILLA_LOG(Info) << "clients train on their own data; model input " << shape_text(ex.sample_shape) << ", "
                         << ex.num_classes << " classes; "
                         << (test.size() > 0 ? "central test set of " + std::to_string(test.size()) + " samples"
                                             : std::string("no central test set"));
    } else {
      const std::string dir = config_.data_dir.empty() ? default_data_dir(ex.dataset) : config_.data_dir;
      ASSIGN_OR_RETURN(DatasetSplits data, load_dataset(ex.dataset, dir));
      ASSIGN_OR_RETURN(Partition partition, partition_for(ex, data.train));
      ASSIGN_OR_RETURN(model_, create_initial_model(ex, data));
      client_class_counts_ = partition.class_counts(data.train.label_vector(), data.train.num_classes);
      for (size_t k = 0; k < client_class_counts_.size(); ++k)
        for (int64_t c : client_class_counts_[k]) client_samples_[k] += c;
      FLOTILLA_LOG(Info) << ex.dataset << ": " << data.train.size() << " train / " << data.test.size()
                         << " test samples";
      if (model_archive_) {
        const std::vector<int64_t> shape(data.train.images.sizes().begin() + 1, data.train.images.sizes().end());
        RETURN_IF_ERROR(check_model_input(*model_, shape, data.train.num_classes).with_context(ex.model));
      }
      test = std::move(data.test);
    }
    if (local && model_archive_)
      RETURN_IF_ERROR(check_model_input(*model_, ex.sample_shape, ex.num_classes).with_context(ex.model));
    const int64_t input_channels = test.images.defined() && test.images.dim() >= 2 ? test.images.size(1) : 0;
    if (client_half_needs_features_ && !model_->provides_features())
      return failed_precondition_error("aggregator '" + config_.aggregator +
                                       "' needs the model's representation, and the TorchScript model defines no "
                                       "features(x) and classify(z) methods (docs/bring_your_own.md)");
    global_ = model_state(*model_).clone();
    model_->to(device_);
    RETURN_IF_ERROR(wrap_for_privacy());
    RETURN_IF_ERROR(prepare_algorithm());
    RETURN_IF_ERROR(check_secure_aggregation());
    if (test.size() > 0) {
      test.images = test.images.to(device_);
      test.labels = test.labels.to(device_);
    }
    evaluator_ = std::make_unique<BackgroundEvaluator>(model_, std::move(test), device_, config_.eval_batch_size);
    if (local) evaluator_->set_input_normalisation(config_.train.input_mean, config_.train.input_std);

    intake_ = std::make_unique<UpdateIntake>(*aggregator_, config_.aggregator, config_.compression, std::move(decoder),
                                             aggregator_->expected_update_extras());

    if (config_.resume) {
      RETURN_IF_ERROR(restore_from_checkpoint());
      RETURN_IF_ERROR(recorder_->write_config(config_json()));  // e.g. more --rounds, another --bind
    } else {
      ASSIGN_OR_RETURN(recorder_, RunRecorder::create(run_dir_));
      RETURN_IF_ERROR(recorder_->write_config(config_json()));
    }
    committer_ = std::make_unique<RoundCommitter>(
        RoundCommitterOptions{config_.rounds, config_.checkpoint_every, run_dir_, config_fingerprint(config_),
                              config_.aggregator, live_.get()},
        *recorder_, *evaluator_);
    // Round 0's checkpoint: a run that dies in round 1 can be resumed too.
    if (!config_.resume) RETURN_IF_ERROR(committer_->write_checkpoint(0, global_, aggregator_->save_state()));
    if (model_archive_ && !config_.resume)
      RETURN_IF_ERROR(write_file_atomically(run_dir_ + "/" + kArchiveCopy, *model_archive_));
    if (!config_.resume && !local) RETURN_IF_ERROR(recorder_->write_partition(client_class_counts_));
    RETURN_IF_ERROR(settle_public_normalisation(input_channels));
    FLOTILLA_LOG(Info) << "model " << ex.model << " (" << global_.numel() << " parameters, "
                       << megabytes(global_.byte_size()) << "); evaluating on " << device_.str();
    own_data_ = std::make_unique<OwnData>(config_.experiment, &client_class_counts_, &client_samples_);

    ASSIGN_OR_RETURN(ZmqOptions options, channel_options());
    ASSIGN_OR_RETURN(std::unique_ptr<ServerChannel> channel, bind_server_channel(config_.bind, options));
    hub_ = std::make_unique<ClientHub>(std::move(channel), hub_options());
    FLOTILLA_LOG(Info) << "listening on " << hub_->endpoint() << "; run directory " << run_dir_;
    const std::string security = security_mode(config_);
    if (security == "curve") {
      FLOTILLA_LOG(Info) << "CURVE: encrypted, " << allowlist_->size() << " client key(s) allowed ("
                         << config_.allowlist_file << ")";
    } else if (security == "insecure") {
      FLOTILLA_LOG(Warning) << "INSECURE: " << hub_->endpoint()
                            << " takes connections from other hosts without authentication or encryption "
                               "(--insecure): anyone who reaches it can join the run, send updates and read the model";
    }
    if (!config_.endpoint_file.empty()) RETURN_IF_ERROR(write_endpoint_file(config_.endpoint_file, hub_->endpoint()));
    return Status();
  }

  std::string config_json() const { return to_json(config_); }

  // --live-view: served from the start, so that a port in use or a bad token file fails before any
  // data is loaded, and the page shows the run waiting for its clients.
  Status start_live_view() {
    if (config_.live_view.empty()) return Status();
    ASSIGN_OR_RETURN(LiveViewAddress address, parse_live_view_address(config_.live_view));
    LiveViewOptions options;
    options.host = address.host;
    options.port = address.port;
    if (!config_.live_view_token_file.empty()) {
      ASSIGN_OR_RETURN(options.token, read_live_view_token(config_.live_view_token_file));
    }
    live_ = std::make_unique<LiveStatus>();
    ASSIGN_OR_RETURN(live_server_, LiveViewServer::start(*live_, options));
    const std::string url = live_server_->url();
    if (!options.token.empty()) {
      FLOTILLA_LOG(Info) << "live view on " << url << " (every request needs the token of "
                         << config_.live_view_token_file << ": " << url << "?token=...)";
    } else if (is_loopback_host(address.host)) {
      FLOTILLA_LOG(Info) << "live view on " << url;
    } else {
      FLOTILLA_LOG(Warning) << "INSECURE: live view on " << url
                            << " for every host that reaches it, without a token (--insecure): anyone can see which "
                               "clients take part, from which hosts, and how training goes";
    }
    if (!config_.live_view_url_file.empty())
      RETURN_IF_ERROR(write_endpoint_file(config_.live_view_url_file, url, "--live-view-url-file"));
    return Status();
  }

  RunInfo run_info() const {
    RunInfo info;
    info.run_dir = run_dir_;
    info.mode = config_.mode;
    info.topology = config_.topology;
    info.aggregator = config_.aggregator;
    info.dataset = config_.experiment.dataset;
    info.model = config_.experiment.model;
    info.endpoint = hub_->endpoint();
    info.security = security_mode(config_);
    info.rounds = config_.rounds;
    info.first_round = first_round_;
    info.num_clients = config_.experiment.num_clients;
    info.min_clients = config_.min_clients > 0 ? config_.min_clients : config_.experiment.num_clients;
    info.round_timeout_s = config_.round_timeout_s;
    info.federated_eval = config_.federated_eval_enabled();
    info.upload_memory_bytes = static_cast<int64_t>(config_.upload_memory_mb * 1e6);
    return info;
  }

  // A TorchScript model: its archive goes into the process's store (so that create_model() builds
  // it) and the model's identity becomes "torchscript:<the archive's SHA-256>", which config.json,
  // checkpoints and every welcome carry. A resumed run whose archive file has gone uses the copy
  // in its run directory.
  Status load_model_archive() {
    Experiment& ex = config_.experiment;
    if (!is_torchscript_model(ex.model)) return Status();
    const bool named_by_digest = torchscript_sha_of(ex.model).ok();
    if (!named_by_digest) config_.model_file = ex.model.substr(kTorchScriptPrefix.size());
    std::string file = config_.model_file;
    if (config_.resume && (file.empty() || !std::filesystem::exists(file))) file = run_dir_ + "/" + kArchiveCopy;
    if (file.empty()) return invalid_argument_error("model " + ex.model + " names no archive file to load");
    ASSIGN_OR_RETURN(model_sha256_, add_torchscript_archive_file(file));
    if (named_by_digest && torchscript_model_name(model_sha256_) != ex.model)
      return failed_precondition_error(file + " has SHA-256 " + model_sha256_ + ", and the run's model is " + ex.model);
    ex.model = torchscript_model_name(model_sha256_);
    model_archive_ = find_torchscript_archive(model_sha256_);
    FLOTILLA_LOG(Info) << "model: TorchScript archive " << file << " (" << model_archive_->size() << " bytes), SHA-256 "
                       << model_sha256_;
    return Status();
  }

  // Dataset local: the central test set, if the run has one, which also gives the model's input
  // when --input-shape / --num-classes do not.
  StatusOr<TensorDataset> load_central_test_set() {
    Experiment& ex = config_.experiment;
    if (config_.test_data.empty()) return TensorDataset();
    ASSIGN_OR_RETURN(TensorDataset test, read_test_data(config_.test_data));
    const std::vector<int64_t> shape(test.images.sizes().begin() + 1, test.images.sizes().end());
    if (!ex.sample_shape.empty() && ex.sample_shape != shape)
      return invalid_argument_error("--test-data " + config_.test_data + " holds samples of " + shape_text(shape) +
                                    ", and the model's input is " + shape_text(ex.sample_shape) + " (--input-shape)");
    if (ex.num_classes != 0 && test.num_classes > ex.num_classes)
      return invalid_argument_error("--test-data " + config_.test_data + " has labels up to " +
                                    std::to_string(test.num_classes - 1) + ", and --num-classes is " +
                                    std::to_string(ex.num_classes));
    ex.sample_shape = shape;
    if (ex.num_classes == 0) ex.num_classes = test.num_classes;
    test.num_classes = ex.num_classes;
    return test;
  }

  ClientHubOptions hub_options() const {
    ClientHubOptions options;
    options.num_clients = config_.experiment.num_clients;
    options.experiment = config_.experiment;
    options.heartbeat_interval_s = config_.heartbeat_interval_s;
    options.peer_timeout_s = config_.peer_timeout_s;
    options.allowlist = allowlist_;
    options.upload_memory_bytes = static_cast<int64_t>(config_.upload_memory_mb * 1e6);
    options.check_registration = [this](const msg::Register& registration) { return own_data_->check(registration); };
    options.model_archive = model_archive_;
    options.model_sha256 = model_sha256_;
    options.observer = live_.get();
    return options;
  }

  // A public data set under --normalize none or given: the per-channel statistics every task's
  // TrainConfig carries, which the clients and the central evaluation apply in place of the
  // reader's (none: the identity, pixels on the 0..1 scale as torchvision's ToTensor() gives them).
  // Settled after config.json and the fingerprint hold the flags as given, as the federated
  // statistics are, so that a resumed run settles them again the same way.
  Status settle_public_normalisation(int64_t channels) {
    if (config_.experiment.dataset == kLocalDataset || config_.normalize == "auto") return Status();
    TrainConfig& t = config_.train;
    if (config_.normalize == "none") {
      t.input_mean.assign(static_cast<size_t>(channels), 0.0);
      t.input_std.assign(static_cast<size_t>(channels), 1.0);
    } else if (t.input_mean.size() != static_cast<size_t>(channels)) {
      return invalid_argument_error("--input-mean/--input-std give " + std::to_string(t.input_mean.size()) +
                                    " channel(s); " + config_.experiment.dataset + " has " + std::to_string(channels));
    }
    FLOTILLA_LOG(Info) << "input normalisation " << config_.normalize << ": mean " << join_numbers(t.input_mean)
                       << ", std " << join_numbers(t.input_std) << " (in place of the reader's statistics)";
    evaluator_->set_input_normalisation(t.input_mean, t.input_std);
    return Status();
  }

  // Dataset local, once the clients registered: the input normalisation (fixed before round 1,
  // and kept in normalization.json so that a resumed run uses the same) and partition.csv from
  // the label counts the sites reported.
  Status settle_own_data() {
    if (config_.experiment.dataset != kLocalDataset) return Status();
    if (!config_.resume) {
      if (own_data_->all_label_counts_known())
        RETURN_IF_ERROR(recorder_->write_partition(client_class_counts_));
      else
        FLOTILLA_LOG(Info) << "partition.csv not written: not every client reported its label counts (some withhold "
                              "them, or have not registered yet)";
    }
    if (config_.normalize == "federated") {
      const std::string path = run_dir_ + "/normalization.json";
      if (config_.resume && std::filesystem::exists(path)) {
        ASSIGN_OR_RETURN(auto saved, read_normalisation(path));
        config_.train.input_mean = std::move(saved.first);
        config_.train.input_std = std::move(saved.second);
      } else {
        ASSIGN_OR_RETURN(auto computed, own_data_->normalisation());
        config_.train.input_mean = std::move(computed.first);
        config_.train.input_std = std::move(computed.second);
        RETURN_IF_ERROR(write_normalisation(path, config_.train.input_mean, config_.train.input_std,
                                            own_data_->reported_clients()));
      }
      FLOTILLA_LOG(Info) << "input normalisation from " << own_data_->reported_clients() << " client(s)' sums: mean "
                         << join_numbers(config_.train.input_mean) << ", std " << join_numbers(config_.train.input_std);
    }
    evaluator_->set_input_normalisation(config_.train.input_mean, config_.train.input_std);
    return Status();
  }

  // --dp: the rule runs inside DP-FedAvg (clipping, noise; privacy/dp_fedavg.h), and the rounds get
  // the privacy stage (Poisson sampling, task settings, epsilon). The noise key is secret and new;
  // a resumed run takes the checkpoint's back with the rule's state.
  Status wrap_for_privacy() {
    if (config_.dp == "off") return Status();
    ASSIGN_OR_RETURN(DpOptions options, dp_options_from(config_.dp, config_.dp_options));
    ASSIGN_OR_RETURN(uint64_t noise_key, secret_seed());
    const double expected_clients = config_.fraction * config_.experiment.num_clients;
    auto rule =
        std::make_unique<DpFedAvg>(std::move(aggregator_), config_.aggregator, options, expected_clients, noise_key);
    privacy_ = std::make_unique<PrivacyStage>(*rule, config_.fraction);
    dp_rule_ = rule.get();
    aggregator_ = std::move(rule);
    FLOTILLA_LOG(Info) << "differential privacy: " << config_.dp << ", noise multiplier " << options.noise_multiplier
                       << ", clip norm " << options.clip_norm << (options.adaptive ? " (adaptive)" : "") << ", delta "
                       << options.delta << "; epsilon after round 1 would be " << privacy_->epsilon_after(1)
                       << ", after " << config_.rounds << " rounds " << privacy_->epsilon_after(config_.rounds);
    return Status();
  }

  bool secure_aggregation_on() const { return config_.secagg == "on"; }

  // --secagg: only rules that fold updates into a sum and take nothing else from clients can run
  // on the one sum the protocol reveals; the others are refused now, by name and reason.
  Status check_secure_aggregation() {
    if (!secure_aggregation_on() || dp_rule_) return Status();  // DP-FedAvg refused such rules already
    if (takes_summed_extras(config_.aggregator)) return Status();
    const ModelState extras = aggregator_->expected_update_extras();
    if (!extras.empty())
      return failed_precondition_error(
          "--secagg cannot run aggregator '" + config_.aggregator + "': its clients send extras ('" + extras[0].name +
          "') that its server step does not only add up, and secure aggregation reveals only sums; use an averaging "
          "rule (fedavg, fedavgm, fedadam, fedyogi, fedadagrad, fedprox) or scaffold");
    if (!aggregator_->begin_fold(global_))
      return failed_precondition_error(
          "--secagg cannot run aggregator '" + config_.aggregator +
          "': its server step does not fold the updates into a sum (a median, a trimmed mean, Krum, FedDyn), and "
          "secure aggregation "
          "reveals only their sum; use an averaging rule (fedavg, fedavgm, fedadam, fedyogi, fedadagrad, fedprox)");
    return Status();
  }

  // The stage of --secagg (over the privacy stage under --dp central), once the clients' sample
  // counts are known; null without secure aggregation.
  StatusOr<std::unique_ptr<SecureAggregationStage>> make_secure_stage() const {
    if (!secure_aggregation_on()) return std::unique_ptr<SecureAggregationStage>();
    ASSIGN_OR_RETURN(SecAggOptions options, secagg_options_from(config_.secagg, config_.secagg_options));
    int64_t max_weight = options.max_weight;
    if (max_weight == 0)
      for (int64_t samples : client_samples_) max_weight = std::max(max_weight, samples);
    if (max_weight == 0) max_weight = int64_t{1} << 24;  // no client said: room for 16M samples each
    FLOTILLA_LOG(Info) << "secure aggregation: threshold " << options.threshold << " of each client's "
                       << (options.neighbours > 0 ? std::to_string(options.neighbours) + " neighbours (SecAgg+)"
                                                  : std::string("neighbours (every other client: SecAgg)"))
                       << (dp_rule_ ? ", DP noise added by the clients in shares"
                                    : ", updates clipped to " + canonical_number(options.clip_norm) +
                                          ", weights up to " + std::to_string(max_weight));
    ModelState summed_extras;
    if (takes_summed_extras(config_.aggregator)) summed_extras = aggregator_->expected_update_extras();
    return std::make_unique<SecureAggregationStage>(options, dp_rule_, privacy_.get(), max_weight,
                                                    derive_seed(config_.experiment.seed, kSecAggGraphStream),
                                                    std::move(summed_extras));
  }

  // Before round 1 and before a checkpoint's aggregator state is restored: the server half learns
  // the run, and says what every update must carry beside the model.
  Status prepare_algorithm() {
    AlgorithmSetup setup;
    setup.num_clients = config_.experiment.num_clients;
    setup.initial = &global_;
    for (const auto& item : model_->named_parameters()) setup.trainable.push_back(item.key());
    setup.train = config_.train;
    RETURN_IF_ERROR(aggregator_->prepare(setup).with_context("aggregator '" + config_.aggregator + "'"));
    client_half_ = aggregator_->client_half();
    return Status();
  }

  // Limits derived from the model, so that a peer cannot make the coordinator allocate more than
  // one update's worth per message (a frame over the limit costs the sender its connection before
  // anything is allocated), plus CURVE when keys are configured.
  StatusOr<ZmqOptions> channel_options() {
    ZmqOptions options;
    int64_t largest = 0;
    const ModelState expected_extras = aggregator_->expected_update_extras();
    for (const ModelState* state : {static_cast<const ModelState*>(&global_), &expected_extras})
      for (const auto& e : state->entries())
        largest = std::max<int64_t>(largest, static_cast<int64_t>(e.tensor.numel()) * e.tensor.element_size());
    // Slack over the largest tensor: under CURVE ZeroMQ checks the limit against the encrypted
    // frame, which is larger than the tensor (a limit of exactly the tensor's size dropped every
    // update of a model whose largest tensor is over the allowance).
    int64_t message_bytes = global_.byte_size() + expected_extras.byte_size();
    if (secure_aggregation_on()) {
      // A masked input: a 64-bit word per element of the floating tensors (and of summed extras),
      // one tensor each, and a tail of two words at most.
      int64_t words = 2;
      for (const ModelState* state : {static_cast<const ModelState*>(&global_), &expected_extras})
        for (const auto& e : state->entries()) {
          if (!e.tensor.is_floating_point()) continue;
          largest = std::max<int64_t>(largest, static_cast<int64_t>(e.tensor.numel()) * 8);
          words += static_cast<int64_t>(e.tensor.numel());
        }
      message_bytes = std::max(message_bytes, words * 8);
    }
    options.max_frame_bytes = largest + kEnvelopeAllowance;
    options.max_message_frames = static_cast<int>(global_.size() + expected_extras.size()) + 2 + kExtraFramesAllowed;
    options.max_message_bytes = message_bytes + kEnvelopeAllowance;
    if (!config_.curve_secret_key_file.empty()) {
      ASSIGN_OR_RETURN(CurveKeyPair keys, read_secret_key_file(config_.curve_secret_key_file));
      ASSIGN_OR_RETURN(Allowlist allowlist, Allowlist::load(config_.allowlist_file));
      allowlist_ = std::make_shared<const Allowlist>(std::move(allowlist));
      options.security.server_secret_key = keys.secret_key;
      options.security.server_public_key = keys.public_key;
      options.security.allowlist = allowlist_;
    }
    return options;
  }

  // ---- checkpoints -------------------------------------------------------------------------
  //
  // A checkpoint holds everything that makes the rest of the run what it would have been: the
  // global model, the aggregator's state, the round. Sampling and client shuffling are functions
  // of (seed, round), and clients start each round afresh, so nothing else carries over.

  Status restore_from_checkpoint() {
    std::vector<std::string> skipped;
    auto ck = load_latest_checkpoint(run_dir_, &skipped);
    for (const auto& why : skipped) FLOTILLA_LOG(Warning) << "skipping checkpoint " << why;
    if (!ck.ok()) {
      return failed_precondition_error("cannot resume " + run_dir_ + ": " + ck.status().message() +
                                       (config_.checkpoint_every == 0 ? " (the run had --checkpoint-every 0)" : ""));
    }
    if (ck->config_fingerprint != config_fingerprint(config_))
      return failed_precondition_error("cannot resume " + run_dir_ + ": its checkpoint of round " +
                                       std::to_string(ck->round) +
                                       " was written by another configuration than its config.json describes");
    if (ck->aggregator != config_.aggregator)
      return failed_precondition_error("cannot resume: the checkpoint is of aggregator '" + ck->aggregator +
                                       "', the run's is '" + config_.aggregator + "'");
    RETURN_IF_ERROR(global_.check_same_layout(ck->model).with_context("checkpoint model"));
    RETURN_IF_ERROR(ck->model.check_finite().with_context("checkpoint model"));
    // Asynchronous runs checkpoint their server (model versions, task count), not the rule.
    if (config_.mode == "async")
      restored_policy_state_ = ck->aggregator_state;
    else
      RETURN_IF_ERROR(aggregator_->restore_state(ck->aggregator_state).with_context("checkpoint aggregator state"));
    global_ = std::move(ck->model);
    first_round_ = ck->round + 1;
    ASSIGN_OR_RETURN(recorder_, RunRecorder::resume(run_dir_, ck->round));
    FLOTILLA_LOG(Info) << "resuming " << run_dir_ << " after round " << ck->round << " of " << config_.rounds
                       << " (model " << model_sha256(global_).substr(0, 12) << ")";
    return Status();
  }

  // ---- phases ------------------------------------------------------------------------------

  Status wait_for_clients() {
    const int wanted = config_.min_clients > 0 ? config_.min_clients : config_.experiment.num_clients;
    const auto start = Clock::now();
    FLOTILLA_LOG(Info) << "waiting for " << wanted << " client(s) to register";
    while (hub_->live_size() < wanted) {
      if (stopping()) return aborted_error("stopped while waiting for clients");
      if (seconds_since(start) > config_.registration_timeout_s) {
        return deadline_exceeded_error("only " + std::to_string(hub_->live_size()) + " of " + std::to_string(wanted) +
                                       " clients registered within " + std::to_string(config_.registration_timeout_s) +
                                       " s (--registration-timeout)");
      }
      RETURN_IF_ERROR(hub_->pump(nullptr));
    }
    return Status();
  }

  // The training policy of --mode and --topology over the one event loop.
  StatusOr<std::unique_ptr<TrainingPolicy>> make_policy() {
    ASSIGN_OR_RETURN(secure_, make_secure_stage());
    const RoundStage* stage = secure_ ? static_cast<const RoundStage*>(secure_.get()) : privacy_.get();
    TrainingContext ctx{config_, *hub_,        *aggregator_,         *intake_,        *committer_, *evaluator_,
                        global_, client_half_, client_class_counts_, client_samples_, stop_,       stage};
    if (config_.mode == "async") {
      ASSIGN_OR_RETURN(std::unique_ptr<AsyncTraining> policy, AsyncTraining::create(ctx, restored_policy_state_));
      return std::unique_ptr<TrainingPolicy>(std::move(policy));
    }
    if (config_.topology != "star") {
      ASSIGN_OR_RETURN(std::unique_ptr<CollectiveTraining> policy, CollectiveTraining::create(ctx, allowlist_));
      return std::unique_ptr<TrainingPolicy>(std::move(policy));
    }
    return std::unique_ptr<TrainingPolicy>(std::make_unique<SyncTraining>(ctx));
  }

  CoordinatorConfig config_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<PrivacyStage> privacy_;             // --dp: over aggregator_, a DpFedAvg; null otherwise
  DpFedAvg* dp_rule_ = nullptr;                       // --dp: aggregator_ itself; null otherwise
  std::unique_ptr<SecureAggregationStage> secure_;    // --secagg on (over privacy_); null otherwise
  bool client_half_needs_features_ = false;           // MOON: the model must define its representation
  std::shared_ptr<const std::string> model_archive_;  // a TorchScript model's archive; null: built-in
  std::string model_sha256_;                          // of model_archive_
  std::unique_ptr<OwnData> own_data_;                 // what clients report of their own data
  const std::atomic<bool>* stop_ = nullptr;
  c10::Device device_{c10::kCPU};
  std::vector<std::vector<int64_t>> client_class_counts_;  // [client][class], of the partition or as reported
  std::vector<int64_t> client_samples_;                    // [client]: training samples
  std::unique_ptr<BackgroundEvaluator> evaluator_;         // owns the model object while it evaluates
  std::shared_ptr<Model> model_;
  ModelState global_;
  ClientHalf client_half_;  // what every task trains with (the server half's choice)
  std::unique_ptr<UpdateIntake> intake_;
  std::string run_dir_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<RoundCommitter> committer_;
  std::shared_ptr<const Allowlist> allowlist_;  // with CURVE: which key may register which ids
  std::unique_ptr<ClientHub> hub_;
  int first_round_ = 1;
  ModelState restored_policy_state_;  // async: the checkpoint's server state, for the policy
  // --live-view: what the run looks like now (told by the hub and the committer), and its server,
  // which reads it from threads of its own and so goes first.
  std::unique_ptr<LiveStatus> live_;
  std::unique_ptr<LiveViewServer> live_server_;
};

Coordinator::Coordinator(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator,
                         bool client_half_needs_features)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(aggregator), client_half_needs_features)) {}
Coordinator::~Coordinator() = default;
Status Coordinator::run(const std::atomic<bool>* stop) { return impl_->run(stop); }
const std::string& Coordinator::run_dir() const { return impl_->run_dir(); }

}  // namespace flotilla
