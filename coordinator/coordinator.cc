#include "coordinator/coordinator.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "compression/codec_spec.h"
#include "compression/delta.h"
#include "coordinator/admission.h"
#include "coordinator/background_evaluator.h"
#include "coordinator/checkpoint.h"
#include "coordinator/client_registry.h"
#include "coordinator/client_sampler.h"
#include "coordinator/divergence.h"
#include "coordinator/round_aggregation.h"
#include "coordinator/run_recorder.h"
#include "coordinator/sync_round.h"
#include "core/digest.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "datasets/dataset_loader.h"
#include "partitioners/random.h"
#include "protocol/codec.h"
#include "training/device.h"
#include "training/evaluator.h"
#include "training/experiment_setup.h"
#include "transport/allowlist.h"
#include "transport/curve_keys.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{100};
// Messages handled back to back before liveness is checked again; all queued ones are read
// before any peer is declared silent, so a coordinator that was busy (evaluating a large model)
// does not mistake its own backlog for dead clients.
constexpr int kMaxDrain = 10000;
// Resume checkpoints kept (the newest and its predecessors, in case the newest is torn).
constexpr int kCheckpointsKept = 3;
// Room in the receive limits beyond the model's own tensors: the envelope (header, metrics) and a
// few frames more than any message of this protocol version carries.
constexpr int64_t kEnvelopeAllowance = int64_t{1} << 20;
constexpr int kExtraFramesAllowed = 8;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

Clock::duration seconds_duration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

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
      : config_(std::move(config)),
        aggregator_(std::move(aggregator)),
        heartbeat_interval_(seconds_duration(config_.heartbeat_interval_s)),
        peer_timeout_(seconds_duration(config_.peer_timeout_s)) {}

  const std::string& run_dir() const { return run_dir_; }

  Status run(const std::atomic<bool>* stop) {
    stop_ = stop;
    RETURN_IF_ERROR(setup());
    Status status = wait_for_clients();
    for (int round = first_round_; status.ok() && round <= config_.rounds; ++round) status = run_round(round);
    // The last round is evaluated in the background too; it (or, after a failure, the round
    // before) is recorded before the run ends.
    if (Status committed = commit_pending(); status.ok()) status = committed;
    if (status.ok()) {
      status = recorder_->save_final(global_);
      std::printf("done %d rounds, final accuracy %.4f, run directory %s\n", config_.rounds, last_accuracy_,
                  run_dir_.c_str());
      std::fflush(stdout);
    }
    shutdown_clients(status.ok() ? "run finished" : "run failed: " + status.message());
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
    if (codec->name != "none") {
      ASSIGN_OR_RETURN(codec_, make_codec(*codec));
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

    run_dir_ = config_.out_dir.empty() ? default_run_dir() : config_.out_dir;
    if (config_.resume) {
      RETURN_IF_ERROR(restore_from_checkpoint());
      RETURN_IF_ERROR(recorder_->write_config(config_json()));  // e.g. more --rounds, another --bind
    } else {
      ASSIGN_OR_RETURN(recorder_, RunRecorder::create(run_dir_));
      RETURN_IF_ERROR(recorder_->write_config(config_json()));
      // Round 0's checkpoint: a run that dies in round 1 can be resumed too.
      RETURN_IF_ERROR(write_checkpoint(0, global_, aggregator_->save_state()));
    }
    client_class_counts_ = partition.class_counts(data.train.label_vector(), data.train.num_classes);
    if (!config_.resume) RETURN_IF_ERROR(recorder_->write_partition(client_class_counts_));
    FLOTILLA_LOG(Info) << ex.dataset << ": " << data.train.size() << " train / " << data.test.size()
                       << " test samples; model " << ex.model << " (" << global_.numel() << " parameters, "
                       << megabytes(global_.byte_size()) << "); evaluating on " << device_.str();

    ASSIGN_OR_RETURN(ZmqOptions options, channel_options());
    ASSIGN_OR_RETURN(channel_, bind_server_channel(config_.bind, options));
    FLOTILLA_LOG(Info) << "listening on " << channel_->endpoint() << "; run directory " << run_dir_;
    const std::string security = security_mode(config_);
    if (security == "curve") {
      FLOTILLA_LOG(Info) << "CURVE: encrypted, " << allowlist_->size() << " client key(s) allowed ("
                         << config_.allowlist_file << ")";
    } else if (security == "insecure") {
      FLOTILLA_LOG(Warning) << "INSECURE: " << channel_->endpoint()
                            << " takes connections from other hosts without authentication or encryption "
                               "(--insecure): anyone who reaches it can join the run, send updates and read the model";
    }
    if (!config_.endpoint_file.empty())
      RETURN_IF_ERROR(write_endpoint_file(config_.endpoint_file, channel_->endpoint()));
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
    expected_extras_ = aggregator_->expected_update_extras();
    return Status();
  }

  // Limits derived from the model, so that a peer cannot make the coordinator allocate more than
  // one update's worth per message (a frame over the limit costs the sender its connection before
  // anything is allocated), plus CURVE when keys are configured.
  StatusOr<ZmqOptions> channel_options() {
    ZmqOptions options;
    int64_t largest = 0;
    for (const ModelState* state : {&global_, &expected_extras_})
      for (const auto& e : state->entries())
        largest = std::max<int64_t>(largest, static_cast<int64_t>(e.tensor.numel()) * e.tensor.element_size());
    // Slack over the largest tensor: under CURVE ZeroMQ checks the limit against the encrypted
    // frame, which is larger than the tensor (a limit of exactly the tensor's size dropped every
    // update of a model whose largest tensor is over the allowance).
    options.max_frame_bytes = largest + kEnvelopeAllowance;
    options.max_message_frames = static_cast<int>(global_.size() + expected_extras_.size()) + 1 + kExtraFramesAllowed;
    options.max_message_bytes = global_.byte_size() + expected_extras_.byte_size() + kEnvelopeAllowance;
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

  // Everything that makes the rest of the run what it would have been: the global model, the
  // aggregator's state, the round. Sampling and client shuffling are functions of (seed, round),
  // and clients start each round afresh, so nothing else carries over.
  Status write_checkpoint(int round, const ModelState& model, ModelState aggregator_state) {
    Checkpoint ck;
    ck.round = round;
    ck.config_fingerprint = config_fingerprint(config_);
    ck.aggregator = config_.aggregator;
    ck.model = model;
    ck.aggregator_state = std::move(aggregator_state);
    RETURN_IF_ERROR(write_checkpoint_file(ck, checkpoint_path(run_dir_, round)));
    return prune_checkpoints(run_dir_, kCheckpointsKept);
  }

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
    RETURN_IF_ERROR(aggregator_->restore_state(ck->aggregator_state).with_context("checkpoint aggregator state"));
    global_ = std::move(ck->model);
    first_round_ = ck->round + 1;
    ASSIGN_OR_RETURN(recorder_, RunRecorder::resume(run_dir_, ck->round));
    FLOTILLA_LOG(Info) << "resuming " << run_dir_ << " after round " << ck->round << " of " << config_.rounds
                       << " (model " << model_sha256(global_).substr(0, 12) << ")";
    return Status();
  }

  // ---- the event loop ----------------------------------------------------------------------
  //
  // One thread owns the channel. pump() is the loop's one turn: send heartbeats when due (a send
  // that fails means ZeroMQ knows the connection is gone), read every queued message, then
  // declare lost every peer that stayed silent past --peer-timeout. A lost peer's outstanding
  // tasks end at once in the round being run.

  Status pump(SyncRound* round) {
    const auto now = Clock::now();
    if (now - last_heartbeat_ >= heartbeat_interval_) {
      last_heartbeat_ = now;
      const Frames beat = encode(msg::Heartbeat{});
      for (const auto& peer : registry_.live_peers())
        if (Status sent = channel_->send(peer, beat); !sent.ok()) peer_lost(peer, "connection closed", round);
    }
    ASSIGN_OR_RETURN(auto in, channel_->receive(kPollInterval));
    for (int n = 0; in && n < kMaxDrain; ++n) {
      handle(*in, round);
      ASSIGN_OR_RETURN(in, channel_->receive(std::chrono::milliseconds(0)));
    }
    for (const auto& peer : registry_.silent_peers(Clock::now(), peer_timeout_)) {
      char why[64];
      std::snprintf(why, sizeof why, "silent for more than %.0f s", config_.peer_timeout_s);
      peer_lost(peer, why, round);
    }
    return Status();
  }

  void peer_lost(const std::string& peer, const std::string& why, SyncRound* round) {
    const auto* p = registry_.find_peer(peer);
    if (!p) return;
    const std::string who = p->capabilities.hostname + " pid " + std::to_string(p->capabilities.pid);
    const std::vector<int> ids = registry_.mark_lost(peer);
    for (int id : ids) overdue_.erase(id);
    int ended = 0;
    if (round) {
      for (int id : ids) {
        if (!round->is_outstanding(id)) continue;
        round->task_ended(id, "lost: " + why);
        ++ended;
      }
    }
    FLOTILLA_LOG(Warning) << "lost client process " << who << " (" << ids.size() << " client(s)): " << why
                          << (ended ? "; " + std::to_string(ended) + " task(s) of this round end as lost" : "");
  }

  // Handles one message. Bad messages are logged (throttled) and dropped: a peer can never crash
  // the coordinator or fail a round by itself.
  void handle(const Incoming& in, SyncRound* round) {
    const bool registered = registry_.heard_from(in.peer, Clock::now());
    if (!in.refused.ok()) {
      if (int64_t quiet = 0; refusal_log_.allow(&quiet))
        FLOTILLA_LOG(Warning) << "dropped a message from " << peer_name(in.peer) << ": " << in.refused.message()
                              << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
      return;
    }
    if (!registered && !admission_.admit_unknown(in.peer)) {
      if (int64_t quiet = 0; budget_log_.allow(&quiet))
        FLOTILLA_LOG(Warning) << "dropping messages from unregistered " << peer_name(in.peer)
                              << ": its budget is spent (" << admission_.dropped() << " dropped in all"
                              << (quiet ? ", " + std::to_string(quiet) + " similar lines suppressed" : "") << ")";
      return;
    }
    auto decoded = decode(in.frames);
    if (!decoded.ok()) {
      if (int64_t quiet = 0; refusal_log_.allow(&quiet))
        FLOTILLA_LOG(Warning) << "dropping malformed message from " << peer_name(in.peer) << ": " << decoded.status()
                              << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
      send_error(in.peer, decoded.status(), -1, round ? round->round() : 0);
      return;
    }
    if (auto* reg = std::get_if<msg::Register>(&*decoded)) return on_register(in, *reg);
    if (!registered) {
      // Typically a client whose coordinator restarted, or that was declared lost while it was
      // only cut off: it registers again on this error.
      send_error(in.peer, not_found_error("not registered with this coordinator; register again"), -1, 0);
      return;
    }
    if (auto* update = std::get_if<msg::ClientUpdate>(&*decoded))
      return on_update(in.peer, std::move(*update), in.wire_bytes, round);
    if (auto* error = std::get_if<msg::Error>(&*decoded)) return on_client_error(in.peer, *error, round);
    if (std::holds_alternative<msg::Heartbeat>(*decoded)) return;
    FLOTILLA_LOG(Warning) << "ignoring unexpected " << message_name(*decoded) << " from " << peer_name(in.peer);
  }

  std::string peer_name(const std::string& peer) const {
    std::string hex;
    char buf[3];
    for (unsigned char c : peer) {
      std::snprintf(buf, sizeof buf, "%02x", c);
      hex += buf;
    }
    return "peer " + hex;
  }

  void send_error(const std::string& peer, const Status& status, int client_id, int round) {
    Status sent =
        channel_->send(peer, encode(msg::Error{static_cast<int>(status.code()), status.message(), client_id, round}));
    if (!sent.ok()) FLOTILLA_LOG(Debug) << "could not tell " << peer_name(peer) << " about the error: " << sent;
  }

  void refuse_registration(const Incoming& in, const msg::Register& reg, const Status& why) {
    if (int64_t quiet = 0; refusal_log_.allow(&quiet))
      FLOTILLA_LOG(Warning) << "refusing registration from " << reg.capabilities.hostname << " pid "
                            << reg.capabilities.pid << ": " << why.message()
                            << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
    send_error(in.peer, why, reg.client_ids.empty() ? -1 : reg.client_ids.front(), 0);
  }

  void on_register(const Incoming& in, const msg::Register& reg) {
    const int n = config_.experiment.num_clients;
    if (reg.client_ids.empty())
      return refuse_registration(in, reg, invalid_argument_error("registration lists no client ids"));
    std::set<int> distinct;
    for (int id : reg.client_ids) {
      if (id < 0 || id >= n)
        return refuse_registration(in, reg,
                                   invalid_argument_error("client id " + std::to_string(id) + " is out of range [0, " +
                                                          std::to_string(n) + ")"));
      if (!distinct.insert(id).second)
        return refuse_registration(in, reg,
                                   invalid_argument_error("client id " + std::to_string(id) + " is listed twice"));
    }
    if (allowlist_) {
      if (Status allowed = allowlist_->check_ids(in.user_id, reg.client_ids); !allowed.ok())
        return refuse_registration(in, reg, allowed);
    }
    const bool rejoin = registry_.size() > 0 && [&] {
      for (int id : reg.client_ids)
        if (client_seen_.count(id)) return true;
      return false;
    }();
    if (Status bound = registry_.register_peer(in.peer, in.user_id, reg.instance_id, reg.capabilities, reg.client_ids,
                                               Clock::now());
        !bound.ok())
      return refuse_registration(in, reg, bound);
    admission_.forget(in.peer);
    client_seen_.insert(reg.client_ids.begin(), reg.client_ids.end());
    for (int id : reg.client_ids) overdue_.erase(id);
    FLOTILLA_LOG(Info) << (rejoin ? "re-registered " : "registered ") << reg.client_ids.size() << " client(s) from "
                       << reg.capabilities.hostname << " pid " << reg.capabilities.pid << " ("
                       << reg.capabilities.device << "); " << registry_.live_size() << "/" << n << " reachable";
    msg::Welcome welcome{reg.client_ids, config_.experiment};
    Status sent = channel_->send(in.peer, encode(welcome));
    if (!sent.ok()) FLOTILLA_LOG(Warning) << "welcome not delivered: " << sent;
  }

  void on_update(const std::string& peer, msg::ClientUpdate update, int64_t bytes, SyncRound* round) {
    const int id = update.client_id;
    const auto* owner = registry_.live_peer_of(id);
    if (owner && owner->peer == peer) overdue_.erase(id);  // a late answer shows it works again
    if (!round || update.round != round->round() || !owner || owner->peer != peer) {
      FLOTILLA_LOG(Info) << "dropping stale or unexpected update from client " << id << " for round " << update.round;
      return;
    }
    if (!round->is_outstanding(id)) {
      FLOTILLA_LOG(Warning) << "dropping update from client " << id << ": its task is not outstanding";
      return;
    }
    round->metrics_of(id).bytes_received = bytes;
    // A compressed update is decoded into the trained model first; the payload is checked
    // against the global model's layout by the codec, the result like any update.
    Status valid = decompress(update);
    if (valid.ok()) valid = global_.check_same_layout(update.state);
    if (valid.ok()) valid = update.state.check_finite();
    // Extras are checked like the model: what the server half expects, by name, dtype and shape.
    if (valid.ok()) valid = check_extras(update.extras);
    ClientUpdate accepted(id, update.num_samples, std::move(update.state), update.train_loss, update.steps,
                          std::move(update.extras));
    if (valid.ok() && update.num_samples <= 0)
      valid = invalid_argument_error("reported " + std::to_string(update.num_samples) + " samples");
    if (valid.ok()) valid = aggregator_->check_update(accepted);
    if (!valid.ok()) {
      FLOTILLA_LOG(Warning) << "rejecting update of client " << id << ": " << valid.message();
      round->task_ended(id, "error: " + valid.message());
      return;
    }
    // Folded in now when the rule is a sum (and its tensors dropped), kept otherwise.
    if (Status taken = aggregation_->add(std::move(accepted)); !taken.ok()) {
      FLOTILLA_LOG(Warning) << "rejecting update of client " << id << ": " << taken.message();
      round->task_ended(id, "error: " + taken.message());
      return;
    }
    ClientRoundMetrics m;
    m.bytes_received = bytes;
    m.num_samples = update.num_samples;
    m.train_loss = update.train_loss;
    m.train_seconds = update.train_seconds;
    m.total_seconds = update.total_seconds;
    m.local_steps = update.steps;
    m.extra = update.metrics;
    round->accept(id, std::move(m));
  }

  Status decompress(msg::ClientUpdate& update) const {
    if (update.compression != config_.compression)
      return invalid_argument_error("update compressed with '" + update.compression + "', this run uses '" +
                                    config_.compression + "' (--compression)");
    if (!codec_) return Status();
    auto delta = codec_->decode(update.state, global_);
    if (!delta.ok()) return delta.status().with_context("compressed update");
    ASSIGN_OR_RETURN(update.state, apply_delta(global_, *delta));
    return Status();
  }

  Status check_extras(const ModelState& extras) const {
    if (expected_extras_.empty() && !extras.empty())
      return invalid_argument_error("sent " + std::to_string(extras.size()) + " extra tensor(s) (first: '" +
                                    extras[0].name + "'), but aggregator '" + config_.aggregator + "' expects none");
    RETURN_IF_ERROR(expected_extras_.check_same_layout(extras).with_context("extras"));
    return extras.check_finite().with_context("extras");
  }

  void on_client_error(const std::string& peer, const msg::Error& error, SyncRound* round) {
    FLOTILLA_LOG(Warning) << "client " << error.client_id << " reports an error in round " << error.round << ": "
                          << error.message;
    const auto* owner = registry_.live_peer_of(error.client_id);
    if (owner && owner->peer == peer) overdue_.erase(error.client_id);
    if (!round || error.round != round->round() || !owner || owner->peer != peer) return;
    round->task_ended(error.client_id, "error: " + error.message);
  }

  // ---- phases ------------------------------------------------------------------------------

  Status wait_for_clients() {
    const int wanted = config_.min_clients > 0 ? config_.min_clients : config_.experiment.num_clients;
    const auto start = Clock::now();
    FLOTILLA_LOG(Info) << "waiting for " << wanted << " client(s) to register";
    while (registry_.live_size() < wanted) {
      if (stopping()) return aborted_error("stopped while waiting for clients");
      if (seconds_since(start) > config_.registration_timeout_s) {
        return deadline_exceeded_error("only " + std::to_string(registry_.live_size()) + " of " +
                                       std::to_string(wanted) + " clients registered within " +
                                       std::to_string(config_.registration_timeout_s) + " s (--registration-timeout)");
      }
      RETURN_IF_ERROR(pump(nullptr));
    }
    return Status();
  }

  std::vector<int> sampleable_ids() const {
    std::vector<int> ids;
    for (int id : registry_.live_ids())
      if (!overdue_.count(id)) ids.push_back(id);
    return ids;
  }

  // Sends the round's tasks for `ids`: one message per process, naming all of its ids, so the
  // global model crosses the wire once per process however many logical clients it hosts. Each
  // client's bytes_sent is what its task alone would have moved (the per-client traffic a real
  // deployment has); the round's wire_bytes_sent is what did move. A send that fails ends that
  // process's tasks as lost.
  void send_tasks(SyncRound& round, const std::vector<int>& ids) {
    msg::RoundTask task;
    task.round = round.round();
    task.config = config_.train;
    task.algorithm = client_half_;
    task.state = global_;  // shared tensors: encoding copies no tensor data
    task.extras = round_extras_;
    task.compression = config_.compression;
    std::map<std::string, std::vector<int>> ids_of_peer;
    std::vector<std::string> peers;  // in the order of their first id: sends follow the sample
    for (int id : ids) {
      task.client_ids = {id};
      round.task_sent(id, channel_->wire_bytes(encode(task)), client_class_counts_[static_cast<size_t>(id)]);
      const auto* peer = registry_.live_peer_of(id);
      if (!peer) {
        round.task_ended(id, "lost: no live process hosts it");
        continue;
      }
      auto& group = ids_of_peer[peer->peer];
      if (group.empty()) peers.push_back(peer->peer);
      group.push_back(id);
    }
    for (const std::string& peer : peers) {
      task.client_ids = ids_of_peer[peer];
      const Frames frames = encode(task);
      round.add_wire_bytes_sent(channel_->wire_bytes(frames));
      if (Status sent = channel_->send(peer, frames); !sent.ok()) {
        peer_lost(peer, "connection closed", &round);
        for (int id : task.client_ids) round.task_ended(id, "lost: " + sent.message());
      }
    }
  }

  // When every task ended with too few answers: tasks for live clients not yet tried this
  // round, picked with the run's seed (so a repeated failure pattern repeats the choice).
  void send_replacements(SyncRound& round, int attempt) {
    std::vector<int> candidates;
    for (int id : sampleable_ids())
      if (!round.was_tried(id)) candidates.push_back(id);
    const int needed = round.replacements_needed();
    if (candidates.empty() || needed == 0) return;
    const int count = std::min<int>(needed, static_cast<int>(candidates.size()));
    std::vector<int> picked =
        sample_clients(candidates, count, derive_seed(config_.experiment.seed, 0x5245504cULL + attempt), round.round());
    FLOTILLA_LOG(Warning) << "round " << round.round() << ": " << round.shortfall() << "; sending " << picked.size()
                          << " replacement task(s)";
    send_tasks(round, picked);
  }

  Status run_round(int round_number) {
    const auto round_start = Clock::now();
    RoundMetrics metrics;
    metrics.round = round_number;
    const std::vector<int> available = sampleable_ids();
    if (static_cast<int>(available.size()) < config_.min_fit) {
      return failed_precondition_error("round " + std::to_string(round_number) + ": only " +
                                       std::to_string(available.size()) + " reachable clients, --min-fit is " +
                                       std::to_string(config_.min_fit));
    }
    SyncRound round(round_number, config_.min_fit);
    aggregation_ = std::make_unique<RoundAggregation>(*aggregator_, global_, round_number);
    round_extras_ = aggregator_->task_extras(round_number).to_cpu();
    RETURN_IF_ERROR(round_extras_.check_finite().with_context("aggregator '" + config_.aggregator + "' task extras"));
    send_tasks(round, sample_clients(available, config_.sample_size(static_cast<int>(available.size())),
                                     config_.experiment.seed, round_number));

    // Collect until the round is complete or the timeout passed; lost clients end their tasks at
    // once, and a round short of --min-fit answers gets replacements or waits for rejoins.
    const auto wait_start = Clock::now();
    int attempt = 0;
    while (!round.complete() && seconds_since(wait_start) < config_.round_timeout_s) {
      if (stopping()) return aborted_error("stopped during round " + std::to_string(round_number));
      if (round.replacements_needed() > 0) send_replacements(round, ++attempt);
      RETURN_IF_ERROR(pump(&round));
    }
    if (stopping()) return aborted_error("stopped during round " + std::to_string(round_number));
    metrics.wait_seconds = seconds_since(wait_start);
    if (round.outstanding() > 0) {
      FLOTILLA_LOG(Warning) << "round " << round_number << ": " << round.outstanding()
                            << " client(s) did not answer within " << config_.round_timeout_s
                            << " s (--round-timeout); not sampled again until they answer";
      for (int id : round.outstanding_ids()) overdue_.insert(id);
      round.time_out();
    }
    if (round.answered() < config_.min_fit) {
      aggregation_.reset();
      RETURN_IF_ERROR(commit_pending());  // the round before keeps its record
      const std::string shortfall = round.shortfall();
      round.fill(&metrics);
      metrics.status = "failed: " + shortfall;
      metrics.model_sha256 = model_sha256(global_);
      metrics.round_seconds = seconds_since(round_start);
      metrics.finished_unix = unix_now();
      RETURN_IF_ERROR(recorder_->record_round(metrics));
      return deadline_exceeded_error("round " + std::to_string(round_number) + " failed after " +
                                     std::to_string(static_cast<int>(metrics.wait_seconds)) + " s: " + shortfall +
                                     "; " + std::to_string(registry_.live_size()) + " client(s) reachable");
    }

    // Aggregate: what was not folded in as updates arrived, then the server step.
    const auto agg_start = Clock::now();
    const std::vector<int> failures = round.failures();
    metrics.aggregation = aggregation_->streaming() ? "streaming" : "whole round";
    auto aggregated = aggregation_->finish(failures);
    aggregation_.reset();
    if (!aggregated.ok()) return aggregated.status();
    RoundAggregation::Result& result = *aggregated;
    double divergence_sum = 0, loss_sum = 0;
    for (const auto& [id, d] : result.divergence) {
      ClientRoundMetrics& m = round.metrics_of(id);
      m.divergence_to_previous = d.to_previous;
      m.divergence_to_new = d.to_new;
      m.cosine_to_update = d.cosine;
      divergence_sum += d.to_previous;
      metrics.max_divergence = std::max(metrics.max_divergence, d.to_previous);
      loss_sum += m.train_loss;
    }
    const double answered = static_cast<double>(result.divergence.size());
    metrics.mean_divergence = divergence_sum / answered;
    metrics.mean_train_loss = loss_sum / answered;
    metrics.inexact_elements = result.inexact_elements;
    if (result.inexact_elements > 0)
      FLOTILLA_LOG(Warning) << "round " << round_number << ": " << result.inexact_elements
                            << " element(s) of the streaming sum could not be kept exact; their last bit may depend "
                               "on the order updates arrived in";
    metrics.fold_seconds = result.fold_seconds;
    global_ = std::move(result.next);
    metrics.aggregate_seconds = seconds_since(agg_start);
    metrics.model_sha256 = model_sha256(global_);
    round.fill(&metrics);
    metrics.round_seconds = seconds_since(round_start);
    metrics.finished_unix = unix_now();

    // The round before is complete now (its evaluation ran while this round trained); this one is
    // evaluated while the next trains, and recorded when that is done.
    RETURN_IF_ERROR(commit_pending());
    PendingRound next;
    next.metrics = std::move(metrics);
    next.model = global_;
    if (config_.checkpoint_every > 0 && round_number % config_.checkpoint_every == 0)
      next.aggregator_state = aggregator_->save_state();  // a snapshot: the next round changes the rule's state
    next.evaluated = round_number % config_.eval_every == 0 || round_number == config_.rounds;
    if (next.evaluated) evaluator_->start(global_);
    pending_ = std::move(next);
    if (!pending_->evaluated) return commit_pending();
    return Status();
  }

  // Records the pending round: its evaluation (waited for), metrics line, checkpoint and stdout
  // line. A round's checkpoint is written only once its metrics are, so a resumed run never
  // lacks a recorded round.
  Status commit_pending() {
    if (!pending_) return Status();
    PendingRound p = std::move(*pending_);
    pending_.reset();
    RoundMetrics& metrics = p.metrics;
    const int round_number = metrics.round;
    metrics.test_accuracy = metrics.test_loss = std::numeric_limits<double>::quiet_NaN();
    if (p.evaluated) {
      ASSIGN_OR_RETURN(BackgroundEvaluator::Result evaluation, evaluator_->wait());
      const EvalResult& eval = evaluation.eval;
      metrics.test_accuracy = eval.accuracy;
      metrics.test_loss = eval.loss;
      for (size_t c = 0; c < eval.class_total.size(); ++c) metrics.class_accuracy.push_back(eval.class_accuracy(c));
      metrics.eval_seconds = evaluation.seconds;
      last_accuracy_ = eval.accuracy;
    }
    RETURN_IF_ERROR(recorder_->record_round(metrics));
    if (config_.checkpoint_every > 0 && round_number % config_.checkpoint_every == 0) {
      RETURN_IF_ERROR(write_checkpoint(round_number, p.model, p.aggregator_state));
      RETURN_IF_ERROR(recorder_->save_checkpoint(p.model, round_number));
    }
    char accuracy[32] = "-";
    if (p.evaluated)
      std::snprintf(accuracy, sizeof accuracy, "%.4f loss %.4f", metrics.test_accuracy, metrics.test_loss);
    std::printf("round %d/%d acc %s clients %d/%zu%s sent %s recv %s time %.2fs (wait %.2f agg %.2f eval %.2f)\n",
                round_number, config_.rounds, accuracy, metrics.answered, metrics.sampled.size(),
                metrics.lost ? (" (" + std::to_string(metrics.lost) + " lost)").c_str() : "",
                megabytes(metrics.bytes_sent).c_str(), megabytes(metrics.bytes_received).c_str(), metrics.round_seconds,
                metrics.wait_seconds, metrics.aggregate_seconds, metrics.eval_seconds);
    std::fflush(stdout);
    return Status();
  }

  void shutdown_clients(const std::string& reason) {
    if (!channel_) return;
    for (const auto& peer : registry_.live_peers()) (void)channel_->send(peer, encode(msg::Shutdown{reason}));
  }

  CoordinatorConfig config_;
  std::unique_ptr<Aggregator> aggregator_;
  const std::atomic<bool>* stop_ = nullptr;
  c10::Device device_{c10::kCPU};
  std::vector<std::vector<int64_t>> client_class_counts_;  // [client][class], of the partition
  std::unique_ptr<BackgroundEvaluator> evaluator_;         // owns the model object while it evaluates
  std::shared_ptr<Model> model_;
  ModelState global_;
  ClientHalf client_half_;                         // what every task trains with (the server half's choice)
  ModelState expected_extras_;                     // the layout every update's extras must have
  ModelState round_extras_;                        // the server half's extras sent with this round's tasks
  std::unique_ptr<RoundAggregation> aggregation_;  // of the round in progress
  std::unique_ptr<UpdateCodec> codec_;             // decodes compressed updates; null: "none"
  // The last round, aggregated and maybe still being evaluated; recorded once that is done.
  struct PendingRound {
    RoundMetrics metrics;
    ModelState model;             // the global model after that round
    ModelState aggregator_state;  // the rule's state then, when a checkpoint is due
    bool evaluated = false;       // its evaluation was started
  };
  std::optional<PendingRound> pending_;
  std::string run_dir_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<ServerChannel> channel_;
  std::shared_ptr<const Allowlist> allowlist_;  // with CURVE: which key may register which ids
  ClientRegistry registry_;
  Admission admission_;
  LogThrottle refusal_log_;    // malformed messages and refused registrations
  LogThrottle budget_log_;     // messages dropped for a spent budget
  std::set<int> client_seen_;  // ids ever registered, to tell a rejoin from a first registration
  // Clients whose last task timed out while their process stayed alive (hung, or far slower than
  // --round-timeout): not sampled again until they answer that task, or their process re-registers
  // or is lost, so that one hung client does not cost every later round a timeout.
  std::set<int> overdue_;
  Clock::duration heartbeat_interval_;
  Clock::duration peer_timeout_;
  Clock::time_point last_heartbeat_{};
  double last_accuracy_ = 0.0;
  int first_round_ = 1;
};

Coordinator::Coordinator(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(aggregator))) {}
Coordinator::~Coordinator() = default;
Status Coordinator::run(const std::atomic<bool>* stop) { return impl_->run(stop); }
const std::string& Coordinator::run_dir() const { return impl_->run_dir(); }

}  // namespace flotilla
