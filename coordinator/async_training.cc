#include "coordinator/async_training.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "async/spec.h"
#include "async/virtual_clock.h"
#include "coordinator/client_sampler.h"
#include "coordinator/divergence.h"
#include "coordinator/measure.h"
#include "core/digest.h"
#include "core/log.h"
#include "partitioners/random.h"

namespace flotilla {
namespace {

// Streams of the run's seed: which idle client gets the next task, and the delay model's draws.
constexpr uint64_t kClientChoiceStream = 0x4153594e43ULL;  // "ASYNC"
constexpr uint64_t kDelayStream = 0x44454c4159ULL;         // "DELAY"

}  // namespace

StatusOr<std::unique_ptr<AsyncTraining>> AsyncTraining::create(TrainingContext ctx, const ModelState& restored) {
  // DC-ASGD's compensation is scaled by the clients' learning rate: the run's --lr unless given.
  Options options = ctx.config.async_options;
  if (!options.has("dc_client_lr")) options.set("dc_client_lr", canonical_number(ctx.config.train.lr));
  ASSIGN_OR_RETURN(AsyncConfig config, async_config_from_options(options));
  std::unique_ptr<AsyncTraining> policy(new AsyncTraining(ctx, std::move(config)));
  policy->server_ = make_async_server(policy->config_, ctx.global);
  if (!restored.empty())
    RETURN_IF_ERROR(policy->server_->restore_state(restored).with_context("checkpoint of the asynchronous server"));
  policy->order_ = make_completion_order(policy->config_, derive_seed(ctx.config.experiment.seed, kDelayStream));
  return policy;
}

AsyncTraining::AsyncTraining(TrainingContext ctx, AsyncConfig config)
    : ctx_(ctx), config_(std::move(config)), federated_(ctx.hub, *this) {}

// Local batches of one task of `client_id`: what the virtual clock charges and per-batch delays
// are drawn for. From the partition's size (the holdout share comes off it, as on the client).
int64_t AsyncTraining::local_steps(int client_id) const {
  const int64_t samples = ctx_.client_samples[static_cast<size_t>(client_id)];
  const auto held_out =
      static_cast<int64_t>(std::floor(static_cast<double>(samples) * ctx_.config.experiment.holdout_fraction));
  const int64_t train = std::max<int64_t>(1, samples - held_out);
  const int64_t batch = ctx_.config.train.batch_size;
  return static_cast<int64_t>(ctx_.config.train.epochs) * ((train + batch - 1) / batch);
}

Status AsyncTraining::dispatch(int client_id) {
  if (server_->version() >= std::numeric_limits<int32_t>::max() - 1)
    return out_of_range_error("asynchronous run reached version 2^31: the round no longer fits the protocol");
  const TaskTicket ticket = server_->dispatch(client_id);
  ++dispatched_;
  const int64_t steps = local_steps(client_id);
  const int64_t nth = tasks_given_[client_id]++;
  msg::RoundTask task;
  // A client has one task at a time, so its id names the task; the round is the version the
  // model will become (as in a synchronous round) and the seed changes with each task of the
  // client, so that its shuffles differ. A client's first task trains exactly as in synchronous
  // round 1: FedBuff with K = N = concurrency makes synchronous FedAvg's first model.
  task.round = static_cast<int>(ticket.base_version + 1);
  task.config = ctx_.config.train;
  if (nth > 0) task.config.seed = derive_seed(ctx_.config.train.seed, static_cast<uint64_t>(nth));
  task.algorithm = ctx_.client_half;
  task.state = server_->global();  // shared tensors: encoding copies no tensor data
  task.compression = ctx_.config.compression;
  // Real time: the client itself waits its delay; the virtual clock charges it instead.
  if (config_.options.clock == ClockMode::kReal)
    task.delay_seconds =
        config_.delay.task_delay(derive_seed(ctx_.config.experiment.seed, kDelayStream), client_id, nth, steps);
  RETURN_IF_ERROR(order_->start(ticket.task_id, client_id, steps));
  InFlight flight;
  flight.ticket = ticket;
  flight.base = server_->global();
  flight.sent = Clock::now();
  flight.metrics.client_id = client_id;
  flight.metrics.label_histogram = ctx_.class_counts[static_cast<size_t>(client_id)];
  flight.metrics.policy["task_id"] = static_cast<double>(ticket.task_id);
  flight.metrics.policy["base_version"] = static_cast<double>(ticket.base_version);
  if (task.delay_seconds > 0) flight.metrics.policy["delay_seconds"] = task.delay_seconds;
  const ClientHub::Dispatch prepared = ctx_.hub.prepare(task, {client_id});
  auto bytes = prepared.task_bytes.find(client_id);
  flight.metrics.bytes_sent = bytes == prepared.task_bytes.end() ? 0 : bytes->second;
  tasks_.emplace(ticket.task_id, std::move(flight));
  busy_[client_id] = ticket.task_id;
  if (!prepared.unreachable.empty()) {
    end_task(ticket.task_id, "lost: no live process hosts it");
    return Status();
  }
  ctx_.hub.send(prepared, this);  // a failed send ends the task through on_clients_lost
  return Status();
}

// Keeps `concurrency` tasks in flight while idle clients are reachable, each drawn with the
// run's seed from the idle ones in id order, so the choice repeats when the applications do.
Status AsyncTraining::dispatch_idle_clients() {
  while (!finished() && static_cast<int>(tasks_.size()) < config_.options.concurrency) {
    std::vector<int> idle;
    for (int id : ctx_.hub.live_ids())
      if (!busy_.count(id) && !overdue_.count(id)) idle.push_back(id);
    if (idle.empty()) return Status();
    const std::vector<int> picked = sample_clients(
        idle, 1, derive_seed(ctx_.config.experiment.seed, kClientChoiceStream), static_cast<int>(dispatched_));
    RETURN_IF_ERROR(dispatch(picked.front()));
  }
  return Status();
}

void AsyncTraining::end_task(int64_t task_id, const std::string& status) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  (void)server_->abandon(task_id);
  (void)order_->cancel(task_id);
  it->second.metrics.status = status;
  rows_.push_back(std::move(it->second.metrics));
  busy_.erase(it->second.ticket.client_id);
  tasks_.erase(it);
  if (config_.options.clock == ClockMode::kVirtual)
    FLOTILLA_LOG(Warning) << "task " << task_id << " ended without an update (" << status
                          << "): the virtual clock's order, and so the run, no longer repeats bit for bit";
}

void AsyncTraining::on_clients_registered(const std::vector<int>& ids) {
  for (int id : ids) overdue_.erase(id);
}

void AsyncTraining::on_clients_lost(const std::vector<int>& ids, const std::string& why) {
  for (int id : ids) {
    overdue_.erase(id);
    if (auto busy = busy_.find(id); busy != busy_.end()) end_task(busy->second, "lost: " + why);
  }
}

void AsyncTraining::on_client_error(const msg::Error& error) {
  overdue_.erase(error.client_id);
  auto busy = busy_.find(error.client_id);
  if (busy == busy_.end() || tasks_.at(busy->second).ticket.base_version + 1 != error.round) return;
  end_task(busy->second, "error: " + error.message);
}

void AsyncTraining::on_update(msg::ClientUpdate update, int64_t wire_bytes) {
  const int id = update.client_id;
  overdue_.erase(id);  // a late answer shows it works again
  auto busy = busy_.find(id);
  auto it = busy == busy_.end() ? tasks_.end() : tasks_.find(busy->second);
  if (it == tasks_.end() || it->second.ticket.base_version + 1 != update.round || it->second.result) {
    FLOTILLA_LOG(Info) << "dropping update of client " << id << " for round " << update.round
                       << ": not the task of this client in flight";
    return;
  }
  const int64_t task_id = it->first;
  InFlight& flight = it->second;
  flight.metrics.bytes_received = wire_bytes;  // a refused update's row shows its bytes too
  auto accepted = ctx_.intake.accept(update, flight.base);
  if (!accepted.ok()) {
    FLOTILLA_LOG(Warning) << "rejecting update of client " << id << ": " << accepted.status().message();
    end_task(task_id, "error: " + accepted.status().message());
    return;
  }
  record_answer(update, wire_bytes, flight.metrics);
  flight.result = AsyncUpdate{flight.ticket.task_id, id, flight.ticket.base_version, update.num_samples,
                              std::move(accepted->state)};
  if (Status reported = order_->report(task_id); !reported.ok()) {
    failure_ = reported;
    return;
  }
  if (Status applied = apply_ready(); !applied.ok()) failure_ = applied;
}

// Applies every result whose turn it is (arrival order, or the virtual clock's), records it, and
// gives each client that finished a new task.
Status AsyncTraining::apply_ready() {
  while (!finished()) {
    const std::optional<int64_t> next = order_->next_ready();
    if (!next) break;
    auto it = tasks_.find(*next);
    FLOTILLA_CHECK(it != tasks_.end() && it->second.result) << "task " << *next << " is due without its result";
    InFlight flight = std::move(it->second);
    tasks_.erase(it);
    busy_.erase(flight.ticket.client_id);
    const auto fold_start = Clock::now();
    auto record = server_->apply(*flight.result);
    RETURN_IF_ERROR(order_->complete(*next));
    fold_seconds_ += seconds_since(fold_start);
    ClientRoundMetrics& m = flight.metrics;
    if (!record.ok()) {
      FLOTILLA_LOG(Warning) << "rejecting update of client " << m.client_id << ": " << record.status().message();
      m.status = "error: " + record.status().message();
      rows_.push_back(std::move(m));
    } else {
      const Divergence d = client_divergence(flight.result->state, flight.base, server_->global());
      m.divergence_to_previous = d.to_previous;
      m.divergence_to_new = d.to_new;
      m.cosine_to_update = d.cosine;
      m.policy["staleness"] = static_cast<double>(record->staleness);
      m.policy["staleness_weight"] = record->staleness_weight;
      m.policy["weight"] = record->weight;
      m.policy["applied_at_version"] = static_cast<double>(record->arrival_version);
      if (auto* clock = dynamic_cast<const VirtualClock*>(order_.get())) m.policy["virtual_time"] = clock->now();
      rows_.push_back(std::move(m));
      if (record->model_changed) RETURN_IF_ERROR(submit_version(record->version_after));
    }
    RETURN_IF_ERROR(dispatch_idle_clients());
  }
  return Status();
}

// A new global version: the updates since the last one become its record, and it is evaluated
// and checkpointed as configured.
Status AsyncTraining::submit_version(int64_t version) {
  RoundMetrics metrics;
  metrics.round = static_cast<int>(version);
  metrics.aggregation = "asynchronous";
  double staleness_sum = 0, staleness_max = 0, divergence_sum = 0, loss_sum = 0;
  int applied = 0;
  for (const ClientRoundMetrics& row : rows_) {
    metrics.sampled.push_back(row.client_id);
    metrics.bytes_sent += row.bytes_sent;
    metrics.bytes_received += row.bytes_received;
    if (row.status.rfind("lost", 0) == 0) ++metrics.lost;
    if (row.status != "ok") continue;
    ++applied;
    const double tau = row.policy.at("staleness");
    staleness_sum += tau;
    staleness_max = std::max(staleness_max, tau);
    divergence_sum += row.divergence_to_previous;
    metrics.max_divergence = std::max(metrics.max_divergence, row.divergence_to_previous);
    loss_sum += row.train_loss;
  }
  metrics.answered = applied;
  metrics.wire_bytes_sent = metrics.bytes_sent;  // one task per message
  metrics.clients = std::move(rows_);
  rows_.clear();
  std::sort(metrics.clients.begin(), metrics.clients.end(),
            [](const ClientRoundMetrics& a, const ClientRoundMetrics& b) { return a.client_id < b.client_id; });
  if (applied > 0) {
    metrics.mean_divergence = divergence_sum / applied;
    metrics.mean_train_loss = loss_sum / applied;
    metrics.policy["mean_staleness"] = staleness_sum / applied;
  }
  metrics.policy["max_staleness"] = staleness_max;
  metrics.policy["updates_applied"] = applied;
  // Called right after the version's last update left tasks_: counted with it, this is how many
  // tasks were training when the version was made (--concurrency once every client is busy).
  metrics.policy["tasks_in_flight"] = static_cast<double>(tasks_.size() + 1);
  metrics.policy["tasks_dispatched"] = static_cast<double>(dispatched_);
  if (auto* clock = dynamic_cast<const VirtualClock*>(order_.get())) metrics.policy["virtual_time"] = clock->now();
  metrics.fold_seconds = fold_seconds_;
  fold_seconds_ = 0;
  metrics.wait_seconds = seconds_since(version_start_);
  metrics.round_seconds = metrics.wait_seconds;
  version_start_ = Clock::now();
  ctx_.global = server_->global();
  metrics.model_sha256 = model_sha256(ctx_.global);
  metrics.finished_unix = unix_now();
  const bool evaluate = version % ctx_.config.eval_every == 0 || version == ctx_.config.rounds;
  ModelState state;
  if (ctx_.committer.checkpoint_due(static_cast<int>(version))) {
    ASSIGN_OR_RETURN(state, server_->save_state());
  }
  record_upload_peaks(ctx_.hub.take_upload_peaks(), metrics);
  made_.push_back({std::move(metrics), ctx_.global, std::move(state), evaluate});
  return Status();
}

Status AsyncTraining::submit_made_versions() {
  while (!made_.empty()) {
    MadeVersion v = std::move(made_.front());
    made_.pop_front();
    if (v.evaluate && ctx_.config.federated_eval_enabled()) {
      std::vector<int> live = ctx_.hub.live_ids();
      ASSIGN_OR_RETURN(v.metrics.federated, federated_.run(v.metrics.round, v.model,
                                                           federated_eval_sample(ctx_.config, live, v.metrics.round),
                                                           ctx_.config.train, ctx_.config.round_timeout_s, ctx_.stop));
    }
    RETURN_IF_ERROR(
        ctx_.committer.submit(std::move(v.metrics), std::move(v.model), std::move(v.server_state), v.evaluate));
  }
  return Status();
}

void AsyncTraining::time_out_tasks() {
  std::vector<int64_t> late;
  for (const auto& [id, flight] : tasks_)
    if (!flight.result && seconds_since(flight.sent) > ctx_.config.round_timeout_s) late.push_back(id);
  for (int64_t id : late) {
    const int client = tasks_.at(id).ticket.client_id;
    FLOTILLA_LOG(Warning) << "client " << client << " did not answer task " << id << " within "
                          << ctx_.config.round_timeout_s << " s (--round-timeout); not given tasks until it answers";
    overdue_.insert(client);
    end_task(id, "timeout");
  }
}

Status AsyncTraining::run(int first_round) {
  if (server_->version() + 1 != first_round)
    return failed_precondition_error("asynchronous server is at version " + std::to_string(server_->version()) +
                                     ", the run resumes at round " + std::to_string(first_round));
  FLOTILLA_LOG(Info) << "asynchronous training: " << config_.options.concurrency << " task(s) in flight, "
                     << (config_.options.mode == AsyncMode::kFedBuff ? "FedBuff" : "FedAsync") << ", "
                     << (config_.options.clock == ClockMode::kVirtual ? "virtual clock (repeatable)"
                                                                      : "real time (arrival order)");
  version_start_ = Clock::now();
  Clock::time_point starved_since{};
  while (!finished()) {
    if (ctx_.stopping()) return aborted_error("stopped at version " + std::to_string(server_->version()));
    RETURN_IF_ERROR(failure_);
    RETURN_IF_ERROR(dispatch_idle_clients());
    if (tasks_.empty()) {
      // Nobody to train: wait for clients to (re)join, as a synchronous round would.
      if (starved_since == Clock::time_point{}) starved_since = Clock::now();
      if (seconds_since(starved_since) > ctx_.config.round_timeout_s)
        return deadline_exceeded_error(
            "no client could be given a task for " + std::to_string(static_cast<int>(ctx_.config.round_timeout_s)) +
            " s (--round-timeout); " + std::to_string(ctx_.hub.live_size()) + " client(s) reachable");
    } else {
      starved_since = Clock::time_point{};
    }
    RETURN_IF_ERROR(ctx_.hub.pump(this));
    time_out_tasks();
    // A task that ended without an update (lost, refused, timed out) may have been the one the
    // virtual clock waited for.
    RETURN_IF_ERROR(apply_ready());
    RETURN_IF_ERROR(submit_made_versions());
  }
  RETURN_IF_ERROR(failure_);
  RETURN_IF_ERROR(submit_made_versions());
  // Tasks still in flight are not needed: their clients are told to shut down with the run.
  return Status();
}

}  // namespace flotilla
