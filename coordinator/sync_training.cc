#include "coordinator/sync_training.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "coordinator/client_sampler.h"
#include "coordinator/measure.h"
#include "core/digest.h"
#include "core/log.h"
#include "partitioners/random.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Status SyncTraining::run(int first_round) {
  for (int round = first_round; round <= ctx_.config.rounds; ++round) {
    if (auto why = stage_.stop_before(round)) {
      FLOTILLA_LOG(Warning) << *why;
      break;
    }
    // Evaluation runs a round behind: the round that reached the target is known while the next
    // one trains, so the run stops a round after it.
    if (ctx_.config.target_accuracy > 0) {
      if (int reached = ctx_.committer.first_round_reaching(ctx_.config.target_accuracy)) {
        FLOTILLA_LOG(Info) << "stopping before round " << round << ": round " << reached
                           << " reached --target-accuracy " << ctx_.config.target_accuracy;
        break;
      }
    }
    RETURN_IF_ERROR(run_round(round));
  }
  // The caller commits the last round once its evaluation is done.
  return wait_for_evaluation("after the last round");
}

// Committing a round waits for its evaluation: the loop keeps turning (heartbeats, registrations)
// until it is done, or an evaluation slower than --peer-timeout (a large model on busy cores)
// would have every client take the coordinator for dead.
Status SyncTraining::wait_for_evaluation(const std::string& when) {
  while (ctx_.evaluator.running() && !ctx_.evaluator.finished()) {
    if (ctx_.stopping()) return aborted_error("stopped " + when);
    RETURN_IF_ERROR(ctx_.hub.pump(this, std::chrono::milliseconds(20)));
  }
  return Status();
}

std::vector<int> SyncTraining::sampleable_ids() const {
  std::vector<int> ids;
  for (int id : ctx_.hub.live_ids())
    if (!overdue_.count(id)) ids.push_back(id);
  return ids;
}

// Each client's bytes_sent is what its task alone would have moved; the round's wire_bytes_sent
// is what did move (one message per process). A send that fails ends that process's tasks as
// lost (through on_clients_lost).
void SyncTraining::send_tasks(const std::vector<int>& ids) {
  msg::RoundTask task;
  task.round = round_->round();
  task.config = ctx_.config.train;
  task.algorithm = ctx_.client_half;
  task.state = ctx_.global;  // shared tensors: encoding copies no tensor data
  task.extras = round_extras_;
  task.compression = ctx_.config.compression;
  if (secure_) task.secure_aggregation = secure_->task();
  stage_.prepare_task(task);
  const ClientHub::Dispatch dispatch = ctx_.hub.prepare(task, ids);
  for (int id : ids) {
    auto bytes = dispatch.task_bytes.find(id);
    round_->task_sent(id, bytes == dispatch.task_bytes.end() ? 0 : bytes->second,
                      ctx_.class_counts[static_cast<size_t>(id)]);
  }
  for (int id : dispatch.unreachable) round_->task_ended(id, "lost: no live process hosts it");
  round_->add_wire_bytes_sent(ctx_.hub.send(dispatch, this));
}

// When every task ended with too few answers: tasks for live clients not yet tried this round,
// picked with the run's seed (so a repeated failure pattern repeats the choice).
void SyncTraining::send_replacements(int attempt) {
  if (!stage_.replaces_failed_clients()) return;
  std::vector<int> candidates;
  for (int id : sampleable_ids())
    if (!round_->was_tried(id)) candidates.push_back(id);
  const int needed = round_->replacements_needed();
  if (candidates.empty() || needed == 0) return;
  const int count = std::min<int>(needed, static_cast<int>(candidates.size()));
  std::vector<int> picked = sample_clients(
      candidates, count, derive_seed(ctx_.config.experiment.seed, 0x5245504cULL + attempt), round_->round());
  FLOTILLA_LOG(Warning) << "round " << round_->round() << ": " << round_->shortfall() << "; sending " << picked.size()
                        << " replacement task(s)";
  send_tasks(picked);
}

void SyncTraining::on_clients_registered(const std::vector<int>& ids) {
  for (int id : ids) overdue_.erase(id);
}

void SyncTraining::on_clients_lost(const std::vector<int>& ids, const std::string& why) {
  int ended = 0;
  for (int id : ids) {
    overdue_.erase(id);
    if (secure_) secure_->drop(id, Clock::now(), [this](msg::SecAggStep step) { send_secagg(std::move(step)); });
    if (!round_ || !round_->is_outstanding(id)) continue;
    round_->task_ended(id, "lost: " + why);
    ++ended;
  }
  if (ended) FLOTILLA_LOG(Warning) << ended << " task(s) of round " << round_->round() << " end as lost";
}

void SyncTraining::on_client_error(const msg::Error& error) {
  overdue_.erase(error.client_id);
  if (!round_ || error.round != round_->round()) return;
  if (secure_)
    secure_->drop(error.client_id, Clock::now(), [this](msg::SecAggStep step) { send_secagg(std::move(step)); });
  round_->task_ended(error.client_id, "error: " + error.message);
}

void SyncTraining::on_update(msg::ClientUpdate update, int64_t bytes) {
  const int id = update.client_id;
  overdue_.erase(id);  // a late answer shows it works again
  if (!round_ || update.round != round_->round()) {
    FLOTILLA_LOG(Info) << "dropping stale update from client " << id << " for round " << update.round;
    return;
  }
  if (!round_->is_outstanding(id)) {
    FLOTILLA_LOG(Warning) << "dropping update from client " << id << ": its task is not outstanding";
    return;
  }
  round_->metrics_of(id).bytes_received = bytes;
  auto accepted = ctx_.intake.accept(update, ctx_.global);
  // Folded in now when the rule is a sum (and its tensors dropped), kept otherwise.
  Status taken = accepted.ok() ? aggregation_->add(std::move(*accepted)) : accepted.status();
  if (!taken.ok()) {
    FLOTILLA_LOG(Warning) << "rejecting update of client " << id << ": " << taken.message();
    round_->task_ended(id, "error: " + taken.message());
    return;
  }
  ClientRoundMetrics m;
  record_answer(update, bytes, m);
  round_->accept(id, std::move(m));
}

void SyncTraining::send_secagg(msg::SecAggStep step) {
  const int id = step.client_id;
  step.round = round_->round();
  const int64_t bytes = ctx_.hub.send_secagg(std::move(step), this);
  round_->metrics_of(id).bytes_sent += bytes;
}

// Stage 0 answers (keys, and what the client says of its training) end the client's task like an
// update; later steps go to the round's protocol.
void SyncTraining::on_secagg_step(msg::SecAggStep step, int64_t bytes) {
  const int id = step.client_id;
  overdue_.erase(id);
  if (!round_ || !secure_ || step.round != round_->round()) {
    FLOTILLA_LOG(Info) << "dropping secure aggregation step of client " << id << " for round " << step.round;
    return;
  }
  if (step.stage > 0) {
    round_->metrics_of(id).bytes_received += bytes;
    Status taken = secure_->on_step(step, Clock::now(), [this](msg::SecAggStep out) { send_secagg(std::move(out)); });
    if (!taken.ok()) FLOTILLA_LOG(Warning) << "round " << round_->round() << ": " << taken.message();
    return;
  }
  if (!round_->is_outstanding(id)) {
    FLOTILLA_LOG(Warning) << "dropping keys of client " << id << ": its task is not outstanding";
    return;
  }
  if (Status taken = secure_->add_keys(step); !taken.ok()) {
    FLOTILLA_LOG(Warning) << "rejecting keys of client " << id << ": " << taken.message();
    round_->task_ended(id, "error: " + taken.message());
    return;
  }
  ClientRoundMetrics m;
  m.bytes_received = bytes;
  m.train_loss = step.report.train_loss;
  m.train_seconds = step.report.train_seconds;
  m.local_steps = step.report.steps;
  m.extra = step.report.metrics;
  m.extra["update_norm"] = step.report.update_norm;  // the coordinator cannot compute it: the client says
  round_->accept(id, std::move(m));
}

Status SyncTraining::run_secure_stages() {
  const auto send = [this](msg::SecAggStep step) { send_secagg(std::move(step)); };
  secure_->start(Clock::now(), send);
  while (!secure_->finished()) {
    if (ctx_.stopping()) return aborted_error("stopped during round " + std::to_string(round_->round()));
    RETURN_IF_ERROR(ctx_.hub.pump(this));
    secure_->tick(Clock::now(), send);
  }
  return Status();
}

Status SyncTraining::run_round(int round_number) {
  const CoordinatorConfig& config = ctx_.config;
  const auto round_start = Clock::now();
  RoundMetrics metrics;
  metrics.round = round_number;
  const std::vector<int> available = sampleable_ids();
  if (static_cast<int>(available.size()) < config.min_fit) {
    return failed_precondition_error("round " + std::to_string(round_number) + ": only " +
                                     std::to_string(available.size()) + " reachable clients, --min-fit is " +
                                     std::to_string(config.min_fit));
  }
  const std::vector<int> sampled =
      stage_.sample(available,
                    sample_clients(available, config.sample_size(static_cast<int>(available.size())),
                                   config.experiment.seed, round_number),
                    round_number);
  if (sampled.empty()) FLOTILLA_LOG(Info) << "round " << round_number << ": no client was sampled";
  const int min_fit = stage_.min_fit(config.min_fit);
  round_ = std::make_unique<SyncRound>(round_number, min_fit);
  aggregation_ = std::make_unique<RoundAggregation>(ctx_.aggregator, ctx_.global, round_number);
  round_extras_ = ctx_.aggregator.task_extras(round_number).to_cpu();
  RETURN_IF_ERROR(round_extras_.check_finite().with_context("aggregator '" + config.aggregator + "' task extras"));
  ASSIGN_OR_RETURN(secure_, stage_.open_secure_round(round_number, sampled, ctx_.global));
  send_tasks(sampled);

  // Collect until the round is complete or the timeout passed; lost clients end their tasks at
  // once, and a round short of --min-fit answers gets replacements or waits for rejoins.
  const auto wait_start = Clock::now();
  int attempt = 0;
  while (!round_->complete() && seconds_since(wait_start) < config.round_timeout_s) {
    if (ctx_.stopping()) return aborted_error("stopped during round " + std::to_string(round_number));
    if (round_->replacements_needed() > 0) send_replacements(++attempt);
    RETURN_IF_ERROR(ctx_.hub.pump(this));
  }
  if (ctx_.stopping()) return aborted_error("stopped during round " + std::to_string(round_number));
  metrics.wait_seconds = seconds_since(wait_start);
  if (round_->outstanding() > 0) {
    FLOTILLA_LOG(Warning) << "round " << round_number << ": " << round_->outstanding()
                          << " client(s) did not answer within " << config.round_timeout_s
                          << " s (--round-timeout); not sampled again until they answer";
    for (int id : round_->outstanding_ids()) overdue_.insert(id);
    round_->time_out();
  }
  // A failed round is recorded, and ends the run with `why`.
  const auto fail_round = [&](const std::string& why) -> Status {
    aggregation_.reset();
    secure_.reset();
    round_->fill(&metrics);
    metrics.status = "failed: " + why;
    metrics.model_sha256 = model_sha256(ctx_.global);
    metrics.round_seconds = seconds_since(round_start);
    metrics.finished_unix = unix_now();
    record_upload_peaks(ctx_.hub.take_upload_peaks(), metrics);
    RETURN_IF_ERROR(ctx_.committer.record_failed(metrics));
    return deadline_exceeded_error("round " + std::to_string(round_number) + " failed after " +
                                   std::to_string(static_cast<int>(seconds_since(wait_start))) + " s: " + why + "; " +
                                   std::to_string(ctx_.hub.live_size()) + " client(s) reachable");
  };
  if (round_->answered() < min_fit) return fail_round(round_->shortfall());

  // Aggregate: what was not folded in as updates arrived, then the server step.
  const auto agg_start = Clock::now();
  std::vector<int> failures = round_->failures();
  if (secure_) {
    // The round's protocol runs once every task has ended; the rule gets the sum it yields.
    const auto secure_start = Clock::now();
    RETURN_IF_ERROR(run_secure_stages());
    for (const auto& [id, missed] : secure_->dropouts()) {
      round_->metrics_of(id).status = "dropped: " + missed;
      failures.push_back(id);
    }
    std::sort(failures.begin(), failures.end());
    record_secure_round(*secure_, seconds_since(secure_start), metrics);
    AggregationRound summed;
    summed.round = round_number;
    summed.global = &ctx_.global;
    summed.failures = failures;
    auto next = stage_.aggregate_secure_sum(*secure_, summed, ctx_.aggregator);
    if (!next.ok()) return fail_round(next.status().message());
    // Divergence and cosine need each update: under secure aggregation they are left out (null),
    // and each client's update norm is what it reported itself.
    const double unknown = std::numeric_limits<double>::quiet_NaN();
    metrics.mean_divergence = metrics.max_divergence = unknown;
    double loss_sum = 0;
    int survivors = 0;
    for (int id : secure_->task().participants) {
      ClientRoundMetrics& m = round_->metrics_of(id);
      m.divergence_to_previous = m.divergence_to_new = m.cosine_to_update = unknown;
      if (m.status != "ok") continue;
      loss_sum += m.train_loss;
      ++survivors;
    }
    if (survivors > 0) metrics.mean_train_loss = loss_sum / survivors;
    aggregation_.reset();
    secure_.reset();
    metrics.aggregation = "secure sum";
    ctx_.global = std::move(next).value();
  } else {
    metrics.aggregation = aggregation_->streaming() ? "streaming" : "whole round";
    auto aggregated = aggregation_->finish(failures);
    aggregation_.reset();
    if (!aggregated.ok()) return aggregated.status();
    RoundAggregation::Result& result = *aggregated;
    double divergence_sum = 0, loss_sum = 0;
    for (const auto& [id, d] : result.divergence) {
      ClientRoundMetrics& m = round_->metrics_of(id);
      m.divergence_to_previous = d.to_previous;
      m.divergence_to_new = d.to_new;
      m.cosine_to_update = d.cosine;
      divergence_sum += d.to_previous;
      metrics.max_divergence = std::max(metrics.max_divergence, d.to_previous);
      loss_sum += m.train_loss;
    }
    const double answered = static_cast<double>(result.divergence.size());
    if (answered > 0) {
      metrics.mean_divergence = divergence_sum / answered;
      metrics.mean_train_loss = loss_sum / answered;
    }
    metrics.inexact_elements = result.inexact_elements;
    if (result.inexact_elements > 0)
      FLOTILLA_LOG(Warning) << "round " << round_number << ": " << result.inexact_elements
                            << " element(s) of the streaming sum could not be kept exact; their last bit may depend "
                               "on the order updates arrived in";
    metrics.fold_seconds = result.fold_seconds;
    ctx_.global = std::move(result.next);
  }
  stage_.record(metrics);
  metrics.aggregate_seconds = seconds_since(agg_start);
  metrics.model_sha256 = model_sha256(ctx_.global);
  round_->fill(&metrics);
  round_.reset();
  metrics.round_seconds = seconds_since(round_start);
  metrics.finished_unix = unix_now();

  // The round before is complete now (its evaluation ran while this round trained); this one is
  // evaluated while the next trains, and recorded when that is done.
  const bool evaluate = round_number % config.eval_every == 0 || round_number == config.rounds;
  // A snapshot: the next round changes the rule's state.
  ModelState aggregator_state =
      ctx_.committer.checkpoint_due(round_number) ? ctx_.aggregator.save_state() : ModelState();
  record_upload_peaks(ctx_.hub.take_upload_peaks(), metrics);
  // The clients evaluate the new model on their own test data now, before the next round's tasks
  // (which would replace the model they hold); the central evaluation runs in the background.
  if (evaluate && config.federated_eval_enabled()) {
    ASSIGN_OR_RETURN(metrics.federated, federated_.run(round_number, ctx_.global,
                                                       federated_eval_sample(config, sampleable_ids(), round_number),
                                                       config.train, config.round_timeout_s, ctx_.stop));
  }
  // Submitting commits the round before, once its evaluation is done.
  RETURN_IF_ERROR(wait_for_evaluation("after round " + std::to_string(round_number)));
  return ctx_.committer.submit(std::move(metrics), ctx_.global, std::move(aggregator_state), evaluate);
}

}  // namespace flotilla
