#include "coordinator/round_committer.h"

#include <cstdio>
#include <limits>

#include "coordinator/checkpoint.h"
#include "coordinator/measure.h"

namespace flotilla {
namespace {

// Resume checkpoints kept (the newest and its predecessors, in case the newest is torn).
constexpr int kCheckpointsKept = 3;

}  // namespace

Status RoundCommitter::write_checkpoint(int round, const ModelState& model, ModelState aggregator_state) {
  Checkpoint ck;
  ck.round = round;
  ck.config_fingerprint = options_.fingerprint;
  ck.aggregator = options_.aggregator;
  ck.model = model;
  ck.aggregator_state = std::move(aggregator_state);
  RETURN_IF_ERROR(write_checkpoint_file(ck, checkpoint_path(options_.run_dir, round)));
  return prune_checkpoints(options_.run_dir, kCheckpointsKept);
}

Status RoundCommitter::submit(RoundMetrics metrics, ModelState model, ModelState aggregator_state, bool evaluate) {
  RETURN_IF_ERROR(flush());
  if (options_.observer) options_.observer->on_round_closed(metrics);
  Pending next;
  next.metrics = std::move(metrics);
  next.model = std::move(model);
  next.aggregator_state = std::move(aggregator_state);
  next.evaluated = evaluate && !next.model.empty() && evaluator_.has_test_set();
  if (next.evaluated) evaluator_.start(next.model);
  const bool commit_now = !next.evaluated;
  pending_ = std::move(next);
  return commit_now ? flush() : Status();
}

Status RoundCommitter::record_failed(const RoundMetrics& metrics) {
  RETURN_IF_ERROR(flush());
  RETURN_IF_ERROR(recorder_.record_round(metrics));
  if (options_.observer) {
    options_.observer->on_round_closed(metrics);
    options_.observer->on_round_committed(metrics);
  }
  return Status();
}

Status RoundCommitter::flush() {
  if (!pending_) return Status();
  Pending p = std::move(*pending_);
  pending_.reset();
  RoundMetrics& metrics = p.metrics;
  const int round = metrics.round;
  metrics.test_accuracy = metrics.test_loss = std::numeric_limits<double>::quiet_NaN();
  if (p.evaluated) {
    ASSIGN_OR_RETURN(BackgroundEvaluator::Result evaluation, evaluator_.wait());
    const EvalResult& eval = evaluation.eval;
    metrics.test_accuracy = eval.accuracy;
    metrics.test_loss = eval.loss;
    for (size_t c = 0; c < eval.class_total.size(); ++c) metrics.class_accuracy.push_back(eval.class_accuracy(c));
    metrics.eval_seconds = evaluation.seconds;
    last_accuracy_ = eval.accuracy;
    accuracy_by_round_[round] = eval.accuracy;
  }
  RETURN_IF_ERROR(recorder_.record_round(metrics));
  last_round_ = round;
  if (options_.observer) options_.observer->on_round_committed(metrics);
  if (checkpoint_due(round) && !p.model.empty()) {
    RETURN_IF_ERROR(write_checkpoint(round, p.model, std::move(p.aggregator_state)));
    RETURN_IF_ERROR(recorder_.save_checkpoint(p.model, round));
  }
  char accuracy[32] = "-";
  if (p.evaluated) std::snprintf(accuracy, sizeof accuracy, "%.4f loss %.4f", metrics.test_accuracy, metrics.test_loss);
  char federated[96] = "";
  if (metrics.federated) {
    const FederatedEvalMetrics& f = *metrics.federated;
    std::snprintf(federated, sizeof federated, " fed acc %.4f loss %.4f (%d/%zu clients, %.2fs)", f.accuracy, f.loss,
                  f.answered, f.clients.size(), f.seconds);
    if (!p.evaluated) last_accuracy_ = f.accuracy;
  }
  // Differentially private runs say what the round cost (--dp; coordinator/privacy_stage.h).
  char privacy[48] = "";
  if (auto epsilon = metrics.policy.find("epsilon"); epsilon != metrics.policy.end())
    std::snprintf(privacy, sizeof privacy, " eps %.4f", epsilon->second);
  std::printf("round %d/%d acc %s%s%s clients %d/%zu%s sent %s recv %s time %.2fs (wait %.2f agg %.2f eval %.2f)\n",
              round, options_.rounds, accuracy, federated, privacy, metrics.answered, metrics.sampled.size(),
              metrics.lost ? (" (" + std::to_string(metrics.lost) + " lost)").c_str() : "",
              megabytes(metrics.bytes_sent).c_str(), megabytes(metrics.bytes_received).c_str(), metrics.round_seconds,
              metrics.wait_seconds, metrics.aggregate_seconds, metrics.eval_seconds);
  std::fflush(stdout);
  return Status();
}

int RoundCommitter::first_round_reaching(double target) const {
  for (const auto& [round, accuracy] : accuracy_by_round_)
    if (accuracy >= target) return round;
  return 0;
}

}  // namespace flotilla
