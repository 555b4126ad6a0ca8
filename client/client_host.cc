#include "client/client_host.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "core/log.h"
#include "datasets/dataset_loader.h"
#include "partitioners/random.h"
#include "protocol/codec.h"
#include "training/device.h"
#include "training/evaluator.h"
#include "training/experiment_setup.h"
#include "training/local_trainer.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{500};

std::string host_name() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

// A logical client's data, already on the training device.
struct LogicalClient {
  ClientData data;
};

}  // namespace

class ClientHost::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)) {}

  Status run() {
    ASSIGN_OR_RETURN(device_, resolve_device(options_.device));
    ASSIGN_OR_RETURN(channel_, connect_client_channel(options_.connect));
    msg::Register reg;
    reg.client_ids = options_.client_ids;
    reg.capabilities = {host_name(), static_cast<int>(getpid()), device_.str(), at::get_num_threads()};
    RETURN_IF_ERROR(channel_->send(encode(reg)));
    FLOTILLA_LOG(Info) << "registering " << options_.client_ids.size() << " logical client(s) with " << options_.connect
                       << " (device " << device_.str() << ")";

    auto last_heard = Clock::now();
    for (;;) {
      ASSIGN_OR_RETURN(auto frames, channel_->receive(kPollInterval));
      if (!frames) {
        if (Clock::now() - last_heard > options_.coordinator_timeout) {
          return unavailable_error("coordinator at " + options_.connect + " has been silent for " +
                                   std::to_string(options_.coordinator_timeout.count()) + " s");
        }
        continue;
      }
      last_heard = Clock::now();
      auto message = decode(*frames);
      if (!message.ok()) {
        FLOTILLA_LOG(Error) << "dropping malformed message from coordinator: " << message.status();
        if (message.status().code() == StatusCode::kFailedPrecondition) return message.status();
        continue;
      }
      bool done = false;
      RETURN_IF_ERROR(handle(*message, &done));
      if (done) return Status();
      last_heard = Clock::now();  // time spent training does not count as silence
    }
  }

 private:
  Status handle(Message& message, bool* done) {
    if (auto* welcome = std::get_if<msg::Welcome>(&message)) return on_welcome(*welcome);
    if (auto* task = std::get_if<msg::RoundTask>(&message)) return on_round_task(*task);
    if (auto* eval = std::get_if<msg::EvaluateTask>(&message)) return on_evaluate_task(*eval);
    if (auto* shutdown = std::get_if<msg::Shutdown>(&message)) {
      FLOTILLA_LOG(Info) << "coordinator says shut down: " << shutdown->reason;
      *done = true;
      return Status();
    }
    if (auto* error = std::get_if<msg::Error>(&message)) {
      // An error before we were welcomed means the registration was refused.
      if (!model_) return failed_precondition_error("coordinator refused registration: " + error->message);
      FLOTILLA_LOG(Warning) << "coordinator reports: " << error->message;
      return Status();
    }
    return Status();  // heartbeats and anything else only prove liveness
  }

  Status on_welcome(const msg::Welcome& welcome) {
    experiment_ = welcome.experiment;
    FLOTILLA_LOG(Info) << "welcomed: dataset " << experiment_.dataset << ", model " << experiment_.model << ", "
                       << experiment_.num_clients << " clients, partitioner " << experiment_.partitioner;
    const std::string dir = options_.data_dir.empty() ? default_data_dir(experiment_.dataset) : options_.data_dir;
    // The full dataset lives only inside this scope: each logical client keeps its own slice.
    ASSIGN_OR_RETURN(DatasetSplits data, load_dataset(experiment_.dataset, dir));
    ASSIGN_OR_RETURN(Partition partition, partition_for(experiment_, data.train));
    for (int id : welcome.client_ids) {
      if (id < 0 || id >= partition.num_clients())
        return invalid_argument_error("coordinator assigned client id " + std::to_string(id) + " out of range");
      ClientData slice = client_data(data, partition, id, experiment_);
      slice.train.images = slice.train.images.to(device_);
      slice.train.labels = slice.train.labels.to(device_);
      clients_[id] = LogicalClient{std::move(slice)};
    }
    ASSIGN_OR_RETURN(model_, create_initial_model(experiment_, data));
    model_->to(device_);
    return Status();
  }

  // Replies with an Error for this client instead of failing the whole process: one bad task
  // (e.g. a state that does not fit) must not take the other logical clients down.
  Status reply_error(int client_id, int round, const Status& status) {
    FLOTILLA_LOG(Error) << "client " << client_id << " round " << round << ": " << status;
    return channel_->send(encode(msg::Error{static_cast<int>(status.code()), status.message(), client_id, round}));
  }

  Status on_round_task(const msg::RoundTask& task) {
    auto it = clients_.find(task.client_id);
    if (!model_ || it == clients_.end())
      return reply_error(task.client_id, task.round, invalid_argument_error("this process does not host that client"));
    if (options_.crash_at_round > 0 && task.round == options_.crash_at_round) {
      FLOTILLA_LOG(Error) << "crashing on purpose at round " << task.round << " (--crash-at-round)";
      std::_Exit(137);
    }
    const auto started = Clock::now();
    Status loaded = load_model_state(*model_, task.state);
    if (!loaded.ok()) return reply_error(task.client_id, task.round, loaded);

    msg::ClientUpdate update;
    update.round = task.round;
    update.client_id = task.client_id;
    const TensorDataset& holdout = it->second.data.holdout;
    if (holdout.size() > 0) {
      auto before = evaluate(*model_, holdout, device_);
      if (before.ok()) update.metrics["local_acc_before"] = before->accuracy;
    }
    const uint64_t shuffle_seed = derive_seed(derive_seed(task.config.seed, static_cast<uint64_t>(task.round)),
                                              static_cast<uint64_t>(task.client_id));
    auto trained = train_local(*model_, it->second.data.train, task.config, device_, shuffle_seed);
    if (!trained.ok()) return reply_error(task.client_id, task.round, trained.status());
    if (holdout.size() > 0) {
      auto after = evaluate(*model_, holdout, device_);
      if (after.ok()) update.metrics["local_acc_after"] = after->accuracy;
    }
    update.num_samples = trained->num_samples;
    update.train_loss = trained->mean_loss;
    update.train_seconds = trained->seconds;
    // A deep copy: the live parameters are overwritten by the next task while ZeroMQ may still
    // be sending these bytes.
    update.state = model_state(*model_).clone();
    update.total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    FLOTILLA_LOG(Debug) << "client " << task.client_id << " round " << task.round << ": loss " << update.train_loss
                        << " in " << update.train_seconds << " s";
    return channel_->send(encode(update));
  }

  Status on_evaluate_task(const msg::EvaluateTask& task) {
    auto it = clients_.find(task.client_id);
    if (!model_ || it == clients_.end())
      return reply_error(task.client_id, task.round, invalid_argument_error("this process does not host that client"));
    Status loaded = load_model_state(*model_, task.state);
    if (!loaded.ok()) return reply_error(task.client_id, task.round, loaded);
    const TensorDataset& data = it->second.data.holdout.size() > 0 ? it->second.data.holdout : it->second.data.train;
    auto result = evaluate(*model_, data, device_);
    if (!result.ok()) return reply_error(task.client_id, task.round, result.status());
    return channel_->send(
        encode(msg::EvaluateResult{task.round, task.client_id, result->num_samples, result->loss, result->accuracy}));
  }

  ClientOptions options_;
  c10::Device device_{c10::kCPU};
  std::unique_ptr<ClientChannel> channel_;
  Experiment experiment_;
  std::map<int, LogicalClient> clients_;
  std::shared_ptr<Model> model_;
};

ClientHost::ClientHost(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ClientHost::~ClientHost() = default;
Status ClientHost::run() { return impl_->run(); }

}  // namespace flotilla
