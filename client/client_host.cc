#include "client/client_host.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "client/task_runner.h"
#include "core/log.h"
#include "protocol/codec.h"
#include "training/device.h"
#include "transport/curve_keys.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds kPollInterval{20};  // bounds how long a finished reply waits to be sent
constexpr milliseconds kFirstBackoff{1000};
constexpr milliseconds kMaxBackoff{8000};

std::string host_name() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

uint64_t random_instance_id() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string seconds_text(milliseconds d) { return std::to_string(d.count() / 1000) + " s"; }

}  // namespace

class ClientHost::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(std::move(options)) {}

  ~Impl() { stop_worker(); }

  Status run() {
    ASSIGN_OR_RETURN(c10::Device device, resolve_device(options_.device));
    ZmqOptions zmq_options;
    // No frame ceiling: the one peer is the coordinator this client was pointed at (with CURVE,
    // the one holding the key it was given), which chooses the model and so its size anyway; a
    // fixed cap would only stop models with a larger tensor.
    zmq_options.max_frame_bytes = -1;
    if (options_.coordinator_key.empty() != options_.key_file.empty())
      return invalid_argument_error("--coordinator-key and --key go together (CURVE needs both)");
    if (!options_.key_file.empty()) {
      ASSIGN_OR_RETURN(zmq_options.security.server_public_key, read_public_key(options_.coordinator_key));
      ASSIGN_OR_RETURN(zmq_options.security.client_keys, read_secret_key_file(options_.key_file));
    }
    ASSIGN_OR_RETURN(channel_, connect_client_channel(options_.connect, zmq_options));
    reg_.client_ids = options_.client_ids;
    if (options_.peer_bind.find(":*") != std::string::npos)
      return invalid_argument_error("--peer-bind " + options_.peer_bind +
                                    ": give a concrete port (or an ipc:// path); the other clients learn it from "
                                    "the coordinator before it is bound");
    reg_.capabilities = {host_name(), static_cast<int>(getpid()), device.str(), at::get_num_threads(),
                         options_.peer_bind};
    reg_.instance_id = random_instance_id();
    TaskRunnerOptions runner_options;
    runner_options.data_dir = options_.data_dir;
    runner_options.device = device;
    runner_options.crash_at_round = options_.crash_at_round;
    runner_options.hang_at_round = options_.hang_at_round;
    runner_options.secagg_dropout = options_.secagg_dropout;
    runner_options.algorithms = options_.algorithms;
    runner_options.state = options_.state;
    runner_options.peer_endpoint = options_.peer_bind;
    runner_options.peer_keys = zmq_options.security.client_keys;
    runner_options.local_data = options_.local_data;
    runner_options.site = options_.site;
    runner_options.withhold_label_counts = options_.withhold_label_counts;
    runner_options.model_trust = options_.model_trust;
    reg_.model_sha256 = options_.model_trust.own_sha256;
    reg_.accepted_model_sha256 = options_.model_trust.pinned_sha256;
    reg_.trusts_shipped_model = options_.model_trust.trust_shipped;
    runner_ = std::make_unique<TaskRunner>(runner_options);
    // A site's own data is read before registering: the registration describes it, and the
    // coordinator refuses data that does not fit the model before round 1.
    ASSIGN_OR_RETURN(reg_.data, runner_->load_local_data(options_.client_ids));
    worker_ = std::thread([this, threads = at::get_num_threads()] { work(threads); });
    FLOTILLA_LOG(Info) << "registering " << options_.client_ids.size() << " logical client(s) with " << options_.connect
                       << " (device " << device.str() << ")";
    Status status = serve();
    stop_worker();
    return status;
  }

 private:
  enum class State { kRegistering, kServing };

  // What the worker hands the socket thread. An answer to a round task that carries tensors (a
  // model) is offered first and sent when the coordinator grants it; anything else goes at once.
  struct Reply {
    Frames frames;
    uint64_t task_id = 0;  // of the RoundTask answered; 0: not a task's answer
    int client_id = -1;
    bool offered() const { return task_id != 0 && frames.size() > 1; }
  };

  // ---- the socket's thread ------------------------------------------------------------------

  Status serve() {
    start_registering("");
    auto last_heard = Clock::now();
    auto last_beat = Clock::now();
    for (;;) {
      RETURN_IF_ERROR(flush_replies());
      const auto now = Clock::now();
      if (state_ == State::kRegistering) {
        if (now - registering_since_ > options_.reconnect_timeout) {
          return unavailable_error("could not register with the coordinator at " + options_.connect + " within " +
                                   seconds_text(options_.reconnect_timeout) + " (--reconnect-timeout)" +
                                   (last_refusal_.empty() ? ": no answer" : ": " + last_refusal_));
        }
        if (now >= next_register_) {
          RETURN_IF_ERROR(channel_->send(encode(reg_)));
          next_register_ = now + backoff_;
          backoff_ = std::min(backoff_ * 2, kMaxBackoff);
        }
      } else {
        if (now - last_heard > options_.peer_timeout) {
          FLOTILLA_LOG(Warning) << "coordinator silent for more than " << seconds_text(options_.peer_timeout)
                                << "; registering again for up to " << seconds_text(options_.reconnect_timeout);
          start_registering("");
        } else if (now - last_beat >= options_.heartbeat_interval) {
          RETURN_IF_ERROR(channel_->send(encode(msg::Heartbeat{})));
          last_beat = now;
        }
      }
      ASSIGN_OR_RETURN(auto frames, channel_->receive(kPollInterval));
      if (!frames) continue;
      last_heard = Clock::now();
      auto message = decode(*frames);
      if (!message.ok()) {
        // Another protocol version cannot be talked to; anything else is one bad message.
        if (message.status().code() == StatusCode::kFailedPrecondition) return message.status();
        FLOTILLA_LOG(Error) << "dropping malformed message from coordinator: " << message.status();
        continue;
      }
      bool done = false;
      RETURN_IF_ERROR(handle(std::move(*message), &done));
      if (done) return Status();
    }
  }

  void start_registering(const std::string& why) {
    state_ = State::kRegistering;
    registering_since_ = Clock::now();
    next_register_ = registering_since_;
    backoff_ = kFirstBackoff;
    last_refusal_ = why;
  }

  Status handle(Message message, bool* done) {
    if (std::holds_alternative<msg::Welcome>(message)) {
      if (state_ == State::kRegistering && !last_refusal_.empty())
        FLOTILLA_LOG(Info) << "registered after waiting (" << last_refusal_ << ")";
      state_ = State::kServing;
      post(std::move(message));
      // Registered anew (the coordinator restarted, or thought us lost): what we still hold is
      // offered again; a coordinator that no longer wants it declines.
      for (const auto& [key, frames] : held_uploads_) RETURN_IF_ERROR(send_offer(key.first, key.second, frames));
      return Status();
    }
    if (auto* grant = std::get_if<msg::UploadGrant>(&message)) return on_upload_grant(*grant);
    if (std::holds_alternative<msg::RoundTask>(message) || std::holds_alternative<msg::EvaluateTask>(message) ||
        std::holds_alternative<msg::SecAggStep>(message)) {
      post(std::move(message));
      return Status();
    }
    if (auto* shutdown = std::get_if<msg::Shutdown>(&message)) {
      FLOTILLA_LOG(Info) << "coordinator says shut down: " << shutdown->reason;
      *done = true;
      return Status();
    }
    if (auto* error = std::get_if<msg::Error>(&message)) return on_error(*error);
    return Status();  // heartbeats only prove liveness
  }

  Status on_error(const msg::Error& error) {
    const auto code = static_cast<StatusCode>(error.code);
    if (code == StatusCode::kNotFound) {
      // The coordinator does not know this process: it restarted, or it declared us lost.
      if (state_ == State::kServing) {
        FLOTILLA_LOG(Warning) << "coordinator says: " << error.message;
        start_registering("");
      }
      return Status();
    }
    if (state_ == State::kRegistering) {
      // Ids still held by a process the coordinator believes alive (our own previous life,
      // killed moments ago): it is declared lost within the peer timeout, so keep trying.
      if (code == StatusCode::kAlreadyExists) {
        if (last_refusal_.empty()) FLOTILLA_LOG(Warning) << "registration deferred: " << error.message;
        last_refusal_ = error.message;
        return Status();
      }
      return failed_precondition_error("coordinator refused registration: " + error.message);
    }
    FLOTILLA_LOG(Warning) << "coordinator reports: " << error.message;
    return Status();
  }

  Status send_offer(uint64_t task_id, int client_id, const Frames& frames) {
    return channel_->send(encode(msg::UploadOffer{task_id, client_id, static_cast<int64_t>(frames_byte_size(frames))}));
  }

  Status on_upload_grant(const msg::UploadGrant& grant) {
    auto held = held_uploads_.find({grant.task_id, grant.client_id});
    if (held == held_uploads_.end()) {
      if (!grant.send) return Status();
      // A grant for an answer we do not hold (dropped on a decline that crossed it): say so, so
      // that the coordinator frees what it set aside for it.
      return channel_->send(encode(msg::Error{static_cast<int>(StatusCode::kNotFound), "no answer held for this grant",
                                              grant.client_id, 0, grant.task_id}));
    }
    Status sent = grant.send ? channel_->send(held->second) : Status();
    if (!grant.send)
      FLOTILLA_LOG(Debug) << "coordinator declined client " << grant.client_id << "'s answer to task " << grant.task_id;
    held_uploads_.erase(held);
    return sent;
  }

  Status flush_replies() {
    std::deque<Reply> replies;
    std::optional<Status> fatal;
    {
      std::lock_guard<std::mutex> lock(mu_);
      replies.swap(outbox_);
      fatal = fatal_;
    }
    for (auto& reply : replies) {
      if (!reply.offered()) {
        RETURN_IF_ERROR(channel_->send(reply.frames));
        continue;
      }
      RETURN_IF_ERROR(send_offer(reply.task_id, reply.client_id, reply.frames));
      held_uploads_[{reply.task_id, reply.client_id}] = std::move(reply.frames);
    }
    if (fatal) return *fatal;
    return Status();
  }

  // ---- the worker ---------------------------------------------------------------------------

  void post(Message message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(message));
    }
    cv_.notify_one();
  }

  void work(int threads) {
    // OpenMP's thread count is per thread: without this the worker's kernels would use every
    // core whatever --threads says.
    if (threads > 0) at::set_num_threads(threads);
    for (;;) {
      Message job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::optional<Frames> reply;
      if (auto* welcome = std::get_if<msg::Welcome>(&job)) {
        if (Status s = runner_->welcome(*welcome); !s.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          fatal_ = s;
          return;
        }
      } else if (auto* task = std::get_if<msg::RoundTask>(&job)) {
        // One task for all of this process's clients that train this round: each update is sent
        // as soon as it is ready, so the coordinator folds it in while the next one trains.
        for (int id : task->client_ids) {
          Frames update = runner_->run(*task, id, cancelled_);
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
          if (!update.empty()) outbox_.push_back({std::move(update), task->task_id, id});
        }
      } else if (auto* eval = std::get_if<msg::EvaluateTask>(&job)) {
        for (int id : eval->client_ids) {
          Frames result = runner_->run(*eval, id);
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
          outbox_.push_back({std::move(result)});
        }
      } else if (auto* step = std::get_if<msg::SecAggStep>(&job)) {
        // Secure aggregation's steps are small, or a masked vector the coordinator sums as it
        // arrives: sent at once, not offered.
        reply = runner_->run(*step);
        if (reply->empty()) reply.reset();
      }
      if (reply) {
        std::lock_guard<std::mutex> lock(mu_);
        outbox_.push_back({std::move(*reply)});
      }
    }
  }

  // Queued tasks are dropped; a task in progress is finished (or, hung on purpose, cancelled).
  void stop_worker() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      jobs_.clear();
    }
    cancelled_ = true;
    cv_.notify_all();
    worker_.join();
  }

  ClientOptions options_;
  std::unique_ptr<ClientChannel> channel_;
  msg::Register reg_;
  State state_ = State::kRegistering;
  Clock::time_point registering_since_{}, next_register_{};
  milliseconds backoff_ = kFirstBackoff;
  std::string last_refusal_;  // why the coordinator deferred our registration, for the final error
  // Answers offered to the coordinator and not yet granted or declined, by (task id, client id).
  std::map<std::pair<uint64_t, int>, Frames> held_uploads_;

  // Shared with the worker, under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> jobs_;
  std::deque<Reply> outbox_;
  std::optional<Status> fatal_;
  bool stopping_ = false;
  std::atomic<bool> cancelled_{false};
  std::unique_ptr<TaskRunner> runner_;  // used by the worker only, once started
  std::thread worker_;
};

ClientHost::ClientHost(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ClientHost::~ClientHost() = default;
Status ClientHost::run() { return impl_->run(); }

}  // namespace flotilla
