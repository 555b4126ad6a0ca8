#include "coordinator/coordinator.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "compression/codec_spec.h"
#include "coordinator/async_training.h"
#include "coordinator/background_evaluator.h"
#include "coordinator/checkpoint.h"
#include "coordinator/client_hub.h"
#include "coordinator/collective_training.h"
#include "coordinator/round_committer.h"
#include "coordinator/run_recorder.h"
#include "coordinator/sync_training.h"
#include "coordinator/update_intake.h"
#include "core/digest.h"
#include "core/log.h"
#include "datasets/dataset_loader.h"
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

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string default_run_dir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "runs/%Y%m%d-%H%M%S", &tm);
  return buf;
}

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fMB", static_cast<double>(bytes) / 1e6);
  return buf;
}

Status write_endpoint_file(const std::string& path, const std::string& endpoint) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << endpoint << "\n";
    if (!out) return unavailable_error("cannot write endpoint file " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return unavailable_error("cannot write endpoint file " + path + ": " + ec.message());
  return Status();
}

}  // namespace

class Coordinator::Impl {
 public:
  Impl(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator)
      : config_(std::move(config)), aggregator_(std::move(aggregator)) {}

  const std::string& run_dir() const { return run_dir_; }

  Status run(const std::atomic<bool>* stop) {
    stop_ = stop;
    RETURN_IF_ERROR(setup());
    Status status = wait_for_clients();
    if (status.ok()) {
      auto policy = make_policy();
      status = policy.ok() ? (*policy)->run(first_round_) : policy.status();
    }
    // The last round is evaluated in the background too; it (or, after a failure, the round
    // before) is recorded before the run ends.
    if (Status committed = committer_->flush(); status.ok()) status = committed;
    if (status.ok()) {
      status = recorder_->save_final(global_);
      std::printf("done %d rounds, final accuracy %.4f, run directory %s\n", config_.rounds,
                  committer_->last_accuracy(), run_dir_.c_str());
      std::fflush(stdout);
    }
    hub_->shutdown(status.ok() ? "run finished" : "run failed: " + status.message());
    return status;
  }

 private:
  bool stopping() const { return stop_ && stop_->load(); }

  Status setup() {
    RETURN_IF_ERROR(config_.validate());
    // The canonical spec (every option spelled out) is what tasks name and the run records.
    auto codec = parse_codec_spec(config_.compression);
    if (!codec.ok()) return codec.status().with_context("--compression");
    config_.compression = to_string(*codec);
    std::unique_ptr<UpdateCodec> decoder;  // null: "none"
    if (codec->name != "none") {
      ASSIGN_OR_RETURN(decoder, make_codec(*codec));
    }
    ASSIGN_OR_RETURN(device_, resolve_device(config_.device));
    const Experiment& ex = config_.experiment;
    const std::string dir = config_.data_dir.empty() ? default_data_dir(ex.dataset) : config_.data_dir;
    // The training set is needed only here (labels for the partition, shapes for the model):
    // it is freed when setup returns; the test set is kept for evaluation.
    ASSIGN_OR_RETURN(DatasetSplits data, load_dataset(ex.dataset, dir));
    ASSIGN_OR_RETURN(Partition partition, partition_for(ex, data.train));
    ASSIGN_OR_RETURN(model_, create_initial_model(ex, data));
    global_ = model_state(*model_).clone();
    model_->to(device_);
    RETURN_IF_ERROR(prepare_algorithm());
    TensorDataset test = data.test;
    test.images = test.images.to(device_);
    test.labels = test.labels.to(device_);
    evaluator_ = std::make_unique<BackgroundEvaluator>(model_, std::move(test), device_, config_.eval_batch_size);

    intake_ = std::make_unique<UpdateIntake>(*aggregator_, config_.aggregator, config_.compression, std::move(decoder),
                                             aggregator_->expected_update_extras());

    run_dir_ = config_.out_dir.empty() ? default_run_dir() : config_.out_dir;
    if (config_.resume) {
      RETURN_IF_ERROR(restore_from_checkpoint());
      RETURN_IF_ERROR(recorder_->write_config(config_json()));  // e.g. more --rounds, another --bind
    } else {
      ASSIGN_OR_RETURN(recorder_, RunRecorder::create(run_dir_));
      RETURN_IF_ERROR(recorder_->write_config(config_json()));
    }
    committer_ =
        std::make_unique<RoundCommitter>(RoundCommitterOptions{config_.rounds, config_.checkpoint_every, run_dir_,
                                                               config_fingerprint(config_), config_.aggregator},
                                         *recorder_, *evaluator_);
    // Round 0's checkpoint: a run that dies in round 1 can be resumed too.
    if (!config_.resume) RETURN_IF_ERROR(committer_->write_checkpoint(0, global_, aggregator_->save_state()));
    client_class_counts_ = partition.class_counts(data.train.label_vector(), data.train.num_classes);
    if (!config_.resume) RETURN_IF_ERROR(recorder_->write_partition(client_class_counts_));
    FLOTILLA_LOG(Info) << ex.dataset << ": " << data.train.size() << " train / " << data.test.size()
                       << " test samples; model " << ex.model << " (" << global_.numel() << " parameters, "
                       << megabytes(global_.byte_size()) << "); evaluating on " << device_.str();

    ASSIGN_OR_RETURN(ZmqOptions options, channel_options());
    ASSIGN_OR_RETURN(std::unique_ptr<ServerChannel> channel, bind_server_channel(config_.bind, options));
    hub_ = std::make_unique<ClientHub>(
        std::move(channel),
        ClientHubOptions{config_.experiment.num_clients, config_.experiment, config_.heartbeat_interval_s,
                         config_.peer_timeout_s, allowlist_, static_cast<int64_t>(config_.upload_memory_mb * 1e6)});
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
    options.max_frame_bytes = largest + kEnvelopeAllowance;
    options.max_message_frames = static_cast<int>(global_.size() + expected_extras.size()) + 1 + kExtraFramesAllowed;
    options.max_message_bytes = global_.byte_size() + expected_extras.byte_size() + kEnvelopeAllowance;
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
    TrainingContext ctx{config_, *hub_,        *aggregator_,         *intake_, *committer_, *evaluator_,
                        global_, client_half_, client_class_counts_, stop_};
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
  const std::atomic<bool>* stop_ = nullptr;
  c10::Device device_{c10::kCPU};
  std::vector<std::vector<int64_t>> client_class_counts_;  // [client][class], of the partition
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
};

Coordinator::Coordinator(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(aggregator))) {}
Coordinator::~Coordinator() = default;
Status Coordinator::run(const std::atomic<bool>* stop) { return impl_->run(stop); }
const std::string& Coordinator::run_dir() const { return impl_->run_dir(); }

}  // namespace flotilla
