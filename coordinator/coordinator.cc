#include "coordinator/coordinator.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "coordinator/client_registry.h"
#include "coordinator/client_sampler.h"
#include "coordinator/divergence.h"
#include "coordinator/run_recorder.h"
#include "core/digest.h"
#include "core/log.h"
#include "datasets/dataset_loader.h"
#include "protocol/codec.h"
#include "training/device.h"
#include "training/evaluator.h"
#include "training/experiment_setup.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{200};
constexpr std::chrono::seconds kHeartbeatInterval{5};

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

// What the round in progress is waiting for.
struct PendingRound {
  int round = 0;
  std::map<int, ClientRoundMetrics> clients;  // sampled clients, by id
  std::map<int, ClientUpdate> updates;        // accepted updates, by id (so: client-id order)
  int outstanding = 0;                        // sampled clients yet to answer
};

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
    for (int round = 1; status.ok() && round <= config_.rounds; ++round) status = run_round(round);
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
    test_ = data.test;
    test_.images = test_.images.to(device_);
    test_.labels = test_.labels.to(device_);

    run_dir_ = config_.out_dir.empty() ? default_run_dir() : config_.out_dir;
    ASSIGN_OR_RETURN(recorder_, RunRecorder::create(run_dir_));
    RETURN_IF_ERROR(recorder_->write_config(config_json()));
    client_class_counts_ = partition.class_counts(data.train.label_vector(), data.train.num_classes);
    RETURN_IF_ERROR(recorder_->write_partition(client_class_counts_));
    FLOTILLA_LOG(Info) << ex.dataset << ": " << data.train.size() << " train / " << data.test.size()
                       << " test samples; model " << ex.model << " (" << global_.numel() << " parameters, "
                       << megabytes(global_.byte_size()) << "); evaluating on " << device_.str();

    ASSIGN_OR_RETURN(channel_, bind_server_channel(config_.bind));
    FLOTILLA_LOG(Info) << "listening on " << channel_->endpoint() << "; run directory " << run_dir_;
    if (!config_.endpoint_file.empty())
      RETURN_IF_ERROR(write_endpoint_file(config_.endpoint_file, channel_->endpoint()));
    return Status();
  }

  std::string config_json() const { return to_json(config_); }

  // ---- messages ----------------------------------------------------------------------------

  // Handles one message; `pending` is the round in progress, if any. Bad messages are logged
  // and dropped: a peer can never crash the coordinator or fail a round by itself.
  void handle(const Incoming& in, PendingRound* pending) {
    auto decoded = decode(in.frames);
    if (!decoded.ok()) {
      FLOTILLA_LOG(Warning) << "dropping malformed message from " << peer_name(in.peer) << ": " << decoded.status();
      send_error(in.peer, decoded.status(), -1, pending ? pending->round : 0);
      return;
    }
    registry_.mark_peer_active(in.peer);
    if (auto* reg = std::get_if<msg::Register>(&*decoded)) return on_register(in.peer, *reg);
    if (auto* update = std::get_if<msg::ClientUpdate>(&*decoded))
      return on_update(in.peer, std::move(*update), frames_byte_size(in.frames), pending);
    if (auto* error = std::get_if<msg::Error>(&*decoded)) return on_client_error(*error, pending);
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

  void on_register(const std::string& peer, const msg::Register& reg) {
    const int n = config_.experiment.num_clients;
    for (int id : reg.client_ids) {
      if (id < 0 || id >= n) {
        Status bad = invalid_argument_error("client id " + std::to_string(id) + " is out of range [0, " +
                                            std::to_string(n) + ")");
        FLOTILLA_LOG(Warning) << "refusing registration from " << reg.capabilities.hostname << ": " << bad.message();
        return send_error(peer, bad, id, 0);
      }
    }
    if (reg.client_ids.empty())
      return send_error(peer, invalid_argument_error("registration lists no client ids"), -1, 0);
    for (int id : reg.client_ids) {
      if (const auto* old = registry_.find(id); old && old->peer != peer)
        FLOTILLA_LOG(Warning) << "client " << id << " re-registered from a new process; the new one takes over";
      registry_.add(id, peer, reg.capabilities);
    }
    FLOTILLA_LOG(Info) << "registered " << reg.client_ids.size() << " client(s) from " << reg.capabilities.hostname
                       << " pid " << reg.capabilities.pid << " (" << reg.capabilities.device << "); "
                       << registry_.size() << "/" << n << " registered";
    msg::Welcome welcome{reg.client_ids, config_.experiment};
    Status sent = channel_->send(peer, encode(welcome));
    if (!sent.ok()) FLOTILLA_LOG(Warning) << "welcome not delivered: " << sent;
  }

  void on_update(const std::string& peer, msg::ClientUpdate update, int64_t bytes, PendingRound* pending) {
    const int id = update.client_id;
    const auto* client = registry_.find(id);
    if (!pending || update.round != pending->round || !pending->clients.count(id) || !client || client->peer != peer) {
      FLOTILLA_LOG(Info) << "dropping stale or unexpected update from client " << id << " for round " << update.round;
      return;
    }
    ClientRoundMetrics& m = pending->clients[id];
    if (m.status != "pending") {
      FLOTILLA_LOG(Warning) << "dropping duplicate update from client " << id;
      return;
    }
    m.bytes_received = bytes;
    --pending->outstanding;
    Status valid = global_.check_same_layout(update.state);
    if (valid.ok()) valid = update.state.check_finite();
    if (valid.ok() && update.num_samples <= 0)
      valid = invalid_argument_error("reported " + std::to_string(update.num_samples) + " samples");
    if (!valid.ok()) {
      m.status = "error: " + valid.message();
      FLOTILLA_LOG(Warning) << "rejecting update of client " << id << ": " << valid.message();
      return;
    }
    m.status = "ok";
    m.num_samples = update.num_samples;
    m.train_loss = update.train_loss;
    m.train_seconds = update.train_seconds;
    m.total_seconds = update.total_seconds;
    m.extra = update.metrics;
    pending->updates[id] = ClientUpdate{id, update.num_samples, std::move(update.state), update.train_loss};
  }

  void on_client_error(const msg::Error& error, PendingRound* pending) {
    FLOTILLA_LOG(Warning) << "client " << error.client_id << " reports an error in round " << error.round << ": "
                          << error.message;
    if (!pending || error.round != pending->round) return;
    auto it = pending->clients.find(error.client_id);
    if (it == pending->clients.end() || it->second.status != "pending") return;
    it->second.status = "error: " + error.message;
    --pending->outstanding;
  }

  // Receives for up to one poll interval; sends heartbeats when due.
  Status pump(PendingRound* pending) {
    if (Clock::now() - last_heartbeat_ > kHeartbeatInterval) {
      for (const auto& peer : registry_.peers()) (void)channel_->send(peer, encode(msg::Heartbeat{}));
      last_heartbeat_ = Clock::now();
    }
    ASSIGN_OR_RETURN(auto in, channel_->receive(kPollInterval));
    if (in) handle(*in, pending);
    return Status();
  }

  // ---- phases ------------------------------------------------------------------------------

  Status wait_for_clients() {
    const int wanted = config_.min_clients > 0 ? config_.min_clients : config_.experiment.num_clients;
    const auto start = Clock::now();
    FLOTILLA_LOG(Info) << "waiting for " << wanted << " client(s) to register";
    while (registry_.size() < wanted) {
      if (stopping()) return aborted_error("stopped while waiting for clients");
      if (seconds_since(start) > config_.registration_timeout_s) {
        return deadline_exceeded_error("only " + std::to_string(registry_.size()) + " of " + std::to_string(wanted) +
                                       " clients registered within " + std::to_string(config_.registration_timeout_s) +
                                       " s (--registration-timeout)");
      }
      RETURN_IF_ERROR(pump(nullptr));
    }
    return Status();
  }

  Status run_round(int round) {
    const auto round_start = Clock::now();
    RoundMetrics metrics;
    metrics.round = round;
    const std::vector<int> available = registry_.active_ids();
    if (static_cast<int>(available.size()) < config_.min_fit) {
      return failed_precondition_error("round " + std::to_string(round) + ": only " + std::to_string(available.size()) +
                                       " responsive clients, --min-fit is " + std::to_string(config_.min_fit));
    }
    metrics.sampled = sample_clients(available, config_.sample_size(static_cast<int>(available.size())),
                                     config_.experiment.seed, round);

    // Send the tasks. Every task shares the global tensors: encoding copies no tensor data.
    PendingRound pending;
    pending.round = round;
    msg::RoundTask task;
    task.round = round;
    task.config = config_.train;
    task.state = global_;
    for (int id : metrics.sampled) {
      task.client_id = id;
      const Frames frames = encode(task);
      ClientRoundMetrics& m = pending.clients[id];
      m.client_id = id;
      m.status = "pending";
      m.label_histogram = client_class_counts_[static_cast<size_t>(id)];
      m.bytes_sent = static_cast<int64_t>(frames_byte_size(frames));
      Status sent = channel_->send(registry_.find(id)->peer, frames);
      if (!sent.ok()) {
        m.status = "error: " + sent.message();
        registry_.mark_inactive(id);
        continue;
      }
      ++pending.outstanding;
    }

    // Collect until everyone answered or the timeout passed.
    const auto wait_start = Clock::now();
    while (pending.outstanding > 0 && seconds_since(wait_start) < config_.round_timeout_s) {
      if (stopping()) return aborted_error("stopped during round " + std::to_string(round));
      RETURN_IF_ERROR(pump(&pending));
    }
    if (stopping()) return aborted_error("stopped during round " + std::to_string(round));
    metrics.wait_seconds = seconds_since(wait_start);
    std::vector<int> failures;
    for (auto& [id, m] : pending.clients) {
      if (m.status == "pending") {
        m.status = "timeout";
        registry_.mark_inactive(id);  // not sampled again until it is heard from
        FLOTILLA_LOG(Warning) << "client " << id << " did not answer round " << round << " within "
                              << config_.round_timeout_s << " s";
      }
      if (m.status != "ok") failures.push_back(id);
      metrics.bytes_sent += m.bytes_sent;
      metrics.bytes_received += m.bytes_received;
    }
    metrics.answered = static_cast<int>(pending.updates.size());
    if (metrics.answered < config_.min_fit) {
      for (auto& [id, m] : pending.clients) metrics.clients.push_back(m);
      metrics.status = "failed: " + std::to_string(metrics.answered) + " of " + std::to_string(metrics.sampled.size()) +
                       " sampled clients answered, --min-fit is " + std::to_string(config_.min_fit);
      metrics.model_sha256 = model_sha256(global_);
      metrics.round_seconds = seconds_since(round_start);
      RETURN_IF_ERROR(recorder_->record_round(metrics));
      return deadline_exceeded_error("round " + std::to_string(round) + " " + metrics.status);
    }

    // Aggregate, in client-id order (std::map), whatever order the updates arrived in.
    const auto agg_start = Clock::now();
    std::vector<ClientUpdate> updates;
    for (auto& [id, u] : pending.updates) updates.push_back(std::move(u));
    ASSIGN_OR_RETURN(ModelState next, aggregator_->aggregate(AggregationRound{round, &global_, updates, failures}));
    RETURN_IF_ERROR(global_.check_same_layout(next).with_context("aggregator returned a model of another layout"));
    RETURN_IF_ERROR(next.check_finite().with_context("aggregated model"));
    next = next.to_cpu();
    double divergence_sum = 0, loss_sum = 0;
    for (const auto& u : updates) {
      ClientRoundMetrics& m = pending.clients[u.client_id];
      const Divergence d = client_divergence(u.state, global_, next);
      m.divergence_to_previous = d.to_previous;
      m.divergence_to_new = d.to_new;
      m.cosine_to_update = d.cosine;
      divergence_sum += d.to_previous;
      metrics.max_divergence = std::max(metrics.max_divergence, d.to_previous);
      loss_sum += u.train_loss;
    }
    metrics.mean_divergence = divergence_sum / static_cast<double>(updates.size());
    metrics.mean_train_loss = loss_sum / static_cast<double>(updates.size());
    global_ = std::move(next);
    metrics.aggregate_seconds = seconds_since(agg_start);

    const auto eval_start = Clock::now();
    RETURN_IF_ERROR(load_model_state(*model_, global_));
    ASSIGN_OR_RETURN(EvalResult eval, evaluate(*model_, test_, device_, config_.eval_batch_size));
    metrics.test_accuracy = eval.accuracy;
    metrics.test_loss = eval.loss;
    for (size_t c = 0; c < eval.class_total.size(); ++c) metrics.class_accuracy.push_back(eval.class_accuracy(c));
    metrics.eval_seconds = seconds_since(eval_start);
    last_accuracy_ = eval.accuracy;

    metrics.model_sha256 = model_sha256(global_);
    for (auto& [id, m] : pending.clients) metrics.clients.push_back(m);
    metrics.round_seconds = seconds_since(round_start);
    RETURN_IF_ERROR(recorder_->record_round(metrics));
    if (config_.checkpoint_every > 0 && round % config_.checkpoint_every == 0)
      RETURN_IF_ERROR(recorder_->save_checkpoint(global_, round));

    std::printf(
        "round %d/%d acc %.4f loss %.4f clients %d/%zu sent %s recv %s time %.2fs (wait %.2f agg %.2f eval %.2f)\n",
        round, config_.rounds, eval.accuracy, eval.loss, metrics.answered, metrics.sampled.size(),
        megabytes(metrics.bytes_sent).c_str(), megabytes(metrics.bytes_received).c_str(), metrics.round_seconds,
        metrics.wait_seconds, metrics.aggregate_seconds, metrics.eval_seconds);
    std::fflush(stdout);
    return Status();
  }

  void shutdown_clients(const std::string& reason) {
    if (!channel_) return;
    for (const auto& peer : registry_.peers()) (void)channel_->send(peer, encode(msg::Shutdown{reason}));
  }

  CoordinatorConfig config_;
  std::unique_ptr<Aggregator> aggregator_;
  const std::atomic<bool>* stop_ = nullptr;
  c10::Device device_{c10::kCPU};
  std::vector<std::vector<int64_t>> client_class_counts_;  // [client][class], of the partition
  TensorDataset test_;
  std::shared_ptr<Model> model_;
  ModelState global_;
  std::string run_dir_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<ServerChannel> channel_;
  ClientRegistry registry_;
  Clock::time_point last_heartbeat_ = Clock::now();
  double last_accuracy_ = 0.0;
};

Coordinator::Coordinator(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(aggregator))) {}
Coordinator::~Coordinator() = default;
Status Coordinator::run(const std::atomic<bool>* stop) { return impl_->run(stop); }
const std::string& Coordinator::run_dir() const { return impl_->run_dir(); }

}  // namespace flotilla
