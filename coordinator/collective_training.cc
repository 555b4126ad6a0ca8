#include "coordinator/collective_training.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "collective/consensus.h"
#include "coordinator/divergence.h"
#include "coordinator/measure.h"
#include "core/digest.h"
#include "core/log.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;

// The plain mean of the clients' models (gossip with doubly stochastic weights preserves it), in
// float64, rounded once.
ModelState mean_model(const std::map<int, ModelState>& models) {
  const ModelState& first = models.begin()->second;
  ModelState mean;
  for (size_t t = 0; t < first.size(); ++t) {
    at::Tensor sum = at::zeros_like(first[t].tensor, at::kDouble);
    for (const auto& [id, m] : models) sum.add_(m[t].tensor.to(at::kDouble));
    mean.add(first[t].name, sum.div_(static_cast<double>(models.size())).to(first[t].tensor.scalar_type()));
  }
  return mean;
}

}  // namespace

StatusOr<std::unique_ptr<CollectiveTraining>> CollectiveTraining::create(TrainingContext ctx,
                                                                         std::shared_ptr<const Allowlist> allowlist) {
  std::unique_ptr<CollectiveTraining> policy(new CollectiveTraining(ctx, std::move(allowlist)));
  if (ctx.config.topology == "gossip") {
    const int n = ctx.config.experiment.num_clients;
    ASSIGN_OR_RETURN(Graph graph, parse_graph(ctx.config.graph, n));
    ASSIGN_OR_RETURN(MixingRule rule, parse_mixing_rule(ctx.config.mixing));
    if (!graph.is_connected())
      FLOTILLA_LOG(Warning) << "--graph " << ctx.config.graph << ": " << graph.connectivity_warning()
                            << "; the clients' models will not reach consensus";
    policy->mixing_.emplace(graph, rule);
    FLOTILLA_LOG(Info) << "gossip on " << ctx.config.graph << " with " << ctx.config.mixing
                       << " weights: disagreement shrinks by about " << second_eigenvalue_modulus(*policy->mixing_)
                       << " per round (second eigenvalue of W)";
  }
  return policy;
}

StatusOr<std::vector<msg::CollectivePeer>> CollectiveTraining::form_group() const {
  const int n = ctx_.config.experiment.num_clients;
  std::vector<msg::CollectivePeer> group;
  for (int id = 0; id < n; ++id) {
    const ClientRegistry::Peer* peer = ctx_.hub.live_peer_of(id);
    if (!peer) return unavailable_error("client " + std::to_string(id) + " is not reachable");
    if (peer->client_ids.size() != 1)
      return failed_precondition_error("client " + std::to_string(id) + " shares its process with " +
                                       std::to_string(peer->client_ids.size() - 1) + " other(s); --topology " +
                                       ctx_.config.topology + " needs one client per process");
    if (peer->capabilities.peer_endpoint.empty())
      return failed_precondition_error("client " + std::to_string(id) +
                                       "'s process has no peer endpoint (start it with --peer-bind)");
    msg::CollectivePeer member{id, id, peer->capabilities.peer_endpoint, "", 0.0};
    if (allowlist_) {
      const AllowedClient* allowed = allowlist_->find_by_name(peer->user_id);
      if (!allowed) return permission_denied_error("client " + std::to_string(id) + " has no key in the allowlist");
      member.public_key = allowed->public_key;
    }
    group.push_back(std::move(member));
  }
  return group;
}

void CollectiveTraining::on_update(msg::ClientUpdate update, int64_t wire_bytes) {
  const int id = update.client_id;
  if (update.round != round_ || !outstanding_.count(id)) {
    FLOTILLA_LOG(Info) << "dropping update of client " << id << " for round " << update.round;
    return;
  }
  outstanding_.erase(id);
  ClientRoundMetrics& m = rows_[id];
  record_answer(update, wire_bytes, m);
  // What the client measured of the collective belongs with the policy's own measurements.
  for (const char* key :
       {"peer_bytes_sent", "peer_bytes_received", "collective_seconds", "collective_steps", "gradient_bytes"}) {
    if (auto found = m.extra.find(key); found != m.extra.end()) {
      m.policy[key] = found->second;
      m.extra.erase(found);
    }
  }
  if (!update.state.empty()) {
    Status valid = ctx_.global.check_same_layout(update.state);
    if (valid.ok()) valid = update.state.check_finite();
    if (!valid.ok()) {
      m.status = "error: " + valid.message();
      failure_ = "client " + std::to_string(id) + " sent a bad model: " + valid.message();
      return;
    }
    models_[id] = std::move(update.state);
  }
}

void CollectiveTraining::on_client_error(const msg::Error& error) {
  if (error.round != round_ || !outstanding_.erase(error.client_id)) return;
  rows_[error.client_id].status = "error: " + error.message;
  if (failure_.empty()) failure_ = "client " + std::to_string(error.client_id) + ": " + error.message;
}

void CollectiveTraining::on_clients_lost(const std::vector<int>& ids, const std::string& why) {
  for (int id : ids) {
    if (!outstanding_.erase(id)) continue;
    rows_[id].status = "lost: " + why;
    if (failure_.empty()) failure_ = "client " + std::to_string(id) + " was lost (" + why + ")";
  }
}

Status CollectiveTraining::run(int first_round) {
  if (first_round != 1)
    return failed_precondition_error("a decentralised run keeps its models on the clients and cannot resume");
  for (int round = 1; round <= ctx_.config.rounds; ++round) RETURN_IF_ERROR(run_round(round, round == 1));
  return Status();
}

Status CollectiveTraining::run_round(int round, bool first) {
  const CoordinatorConfig& config = ctx_.config;
  const auto round_start = Clock::now();
  // Every member must be there: wait for (re)joins up to the round timeout.
  StatusOr<std::vector<msg::CollectivePeer>> group = unavailable_error("");
  while (!(group = form_group()).ok() && seconds_since(round_start) < config.round_timeout_s) {
    if (group.status().code() != StatusCode::kUnavailable) break;
    if (ctx_.stopping()) return aborted_error("stopped before round " + std::to_string(round));
    RETURN_IF_ERROR(ctx_.hub.pump(this));
  }
  if (!group.ok())
    return group.status().with_context("round " + std::to_string(round) + " of --topology " + config.topology);

  const bool evaluate = round % config.eval_every == 0 || round == config.rounds;
  round_ = round;
  rows_.clear();
  models_.clear();
  failure_.clear();
  RoundMetrics metrics;
  metrics.round = round;
  metrics.aggregation = config.topology;
  msg::RoundTask task;
  task.round = round;
  task.config = config.train;
  task.algorithm = ctx_.client_half;
  if (first) task.state = ctx_.global;  // later rounds go on from the clients' own models
  task.collective.topology = config.topology;
  task.collective.sync = config.collective_sync;
  task.collective.report_model = evaluate;
  task.collective.timeout_seconds = config.collective_timeout_s;
  const int n = static_cast<int>(group->size());
  for (int rank = 0; rank < n; ++rank) {
    task.collective.rank = rank;
    task.collective.peers = *group;
    if (mixing_)
      for (auto& peer : task.collective.peers) peer.weight = (*mixing_)(rank, peer.rank);
    const int id = (*group)[static_cast<size_t>(rank)].client_id;
    ClientHub::Dispatch dispatch = ctx_.hub.prepare(task, {id});
    ClientRoundMetrics& m = rows_[id];
    m.client_id = id;
    m.label_histogram = ctx_.class_counts[static_cast<size_t>(id)];
    m.bytes_sent = dispatch.task_bytes.count(id) ? dispatch.task_bytes.at(id) : 0;
    metrics.sampled.push_back(id);
    outstanding_.insert(id);
    metrics.wire_bytes_sent += ctx_.hub.send(dispatch, this);
  }

  const auto wait_start = Clock::now();
  while (!outstanding_.empty() && failure_.empty() && seconds_since(wait_start) < config.round_timeout_s) {
    if (ctx_.stopping()) return aborted_error("stopped during round " + std::to_string(round));
    RETURN_IF_ERROR(ctx_.hub.pump(this));
  }
  metrics.wait_seconds = seconds_since(wait_start);
  if (failure_.empty() && !outstanding_.empty())
    failure_ = std::to_string(outstanding_.size()) + " client(s) did not answer within " +
               std::to_string(static_cast<int>(config.round_timeout_s)) + " s (--round-timeout)";
  for (int id : outstanding_) rows_[id].status = "timeout";
  outstanding_.clear();
  if (!failure_.empty()) {
    for (auto& [id, row] : rows_) metrics.clients.push_back(row);
    metrics.status = "failed: " + failure_;
    metrics.round_seconds = seconds_since(round_start);
    metrics.finished_unix = unix_now();
    record_upload_peaks(ctx_.hub.take_upload_peaks(), metrics);
    RETURN_IF_ERROR(ctx_.committer.record_failed(metrics));
    return aborted_error("round " + std::to_string(round) + " of --topology " + config.topology +
                         " failed: " + failure_ + " (a collective needs every member)");
  }
  RETURN_IF_ERROR(finish_round(round, evaluate, metrics));
  metrics.round_seconds = seconds_since(round_start);
  metrics.finished_unix = unix_now();
  record_upload_peaks(ctx_.hub.take_upload_peaks(), metrics);
  return ctx_.committer.submit(std::move(metrics), evaluate ? ctx_.global : ModelState(), ModelState(), evaluate);
}

// Traffic against the topology's formula, and on evaluation rounds the models: their average
// becomes the global model, their spread the consensus distance, and (gossip) each is evaluated.
Status CollectiveTraining::finish_round(int round, bool evaluate, RoundMetrics& metrics) {
  const int n = static_cast<int>(rows_.size());
  const double model_bytes = static_cast<double>(ctx_.global.byte_size());
  double peer_sent = 0, peer_received = 0, loss_sum = 0, formula_sum = 0;
  for (auto& [id, row] : rows_) {
    peer_sent += row.policy["peer_bytes_sent"];
    peer_received += row.policy["peer_bytes_received"];
    loss_sum += row.train_loss;
    // Payload only (framing and headers are what the measurement adds): ring 2(N-1)/N x model;
    // with gradient sync 2(N-1)/N x the gradients at every local step, and the buffers once;
    // gossip one model to each neighbour.
    double formula = 2.0 * (n - 1) / n * model_bytes;
    if (ctx_.config.collective_sync == "gradient") {
      const double gradient_bytes = row.policy["gradient_bytes"];
      formula =
          2.0 * (n - 1) / n * (static_cast<double>(row.local_steps) * gradient_bytes + (model_bytes - gradient_bytes));
    }
    if (mixing_) {
      int degree = 0;
      for (int j = 0; j < n; ++j) degree += (j != id && (*mixing_)(id, j) != 0.0);
      formula = degree * model_bytes;
    }
    row.policy["peer_bytes_sent_formula"] = formula;
    formula_sum += formula;
    ++metrics.answered;
  }
  metrics.mean_train_loss = loss_sum / n;
  metrics.policy["peer_bytes_sent"] = peer_sent;
  metrics.policy["peer_bytes_received"] = peer_received;
  metrics.policy["peer_bytes_sent_per_client"] = peer_sent / n;
  metrics.policy["peer_bytes_sent_formula_per_client"] = formula_sum / n;
  metrics.policy["model_bytes"] = model_bytes;
  if (!evaluate) {
    for (auto& [id, row] : rows_) {
      metrics.bytes_sent += row.bytes_sent;
      metrics.bytes_received += row.bytes_received;
      metrics.clients.push_back(row);
    }
    return Status();
  }
  if (static_cast<int>(models_.size()) != n)
    return data_loss_error("round " + std::to_string(round) + ": " + std::to_string(n - models_.size()) +
                           " client(s) answered an evaluation round without their model");
  std::vector<ModelState> models;
  for (const auto& [id, m] : models_) models.push_back(m);
  ASSIGN_OR_RETURN(double spread, consensus_distance(models));
  metrics.policy["consensus_distance"] = spread;
  const ModelState previous = ctx_.global;
  if (!mixing_) {
    // Every member ends the all-gather with the same bits; anything else is a broken collective.
    const std::string digest = model_sha256(models.front());
    for (const auto& [id, m] : models_)
      if (model_sha256(m) != digest)
        return data_loss_error("round " + std::to_string(round) + ": client " + std::to_string(id) +
                               "'s model differs from client 0's after the ring all-reduce");
    ctx_.global = models.front();
  } else {
    ctx_.global = mean_model(models_);
    // Each client's own model on the test set, one after another on the evaluator's thread.
    RETURN_IF_ERROR(ctx_.committer.flush());
    for (const auto& [id, m] : models_) {
      ctx_.evaluator.start(m);
      ASSIGN_OR_RETURN(BackgroundEvaluator::Result result, ctx_.evaluator.wait());
      rows_[id].policy["test_accuracy"] = result.eval.accuracy;
    }
  }
  double divergence_sum = 0;
  for (auto& [id, row] : rows_) {
    const Divergence d = client_divergence(models_.at(id), previous, ctx_.global);
    row.divergence_to_previous = d.to_previous;
    row.divergence_to_new = d.to_new;
    row.cosine_to_update = d.cosine;
    divergence_sum += d.to_new;
    metrics.max_divergence = std::max(metrics.max_divergence, d.to_new);
    metrics.bytes_sent += row.bytes_sent;
    metrics.bytes_received += row.bytes_received;
    metrics.clients.push_back(row);
  }
  metrics.mean_divergence = divergence_sum / n;
  metrics.model_sha256 = model_sha256(ctx_.global);
  return Status();
}

}  // namespace flotilla
