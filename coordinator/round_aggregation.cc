#include "coordinator/round_aggregation.h"

namespace flotilla {

RoundAggregation::RoundAggregation(Aggregator& rule, ModelState global, int round)
    : rule_(rule), global_(std::move(global)), round_(round), fold_(rule.begin_fold(global_)) {
  if (fold_) tracker_ = std::make_unique<DivergenceTracker>(global_);
}

int RoundAggregation::count() const { return fold_ ? fold_->count() : static_cast<int>(kept_.size()); }

Status RoundAggregation::add(ClientUpdate update) {
  if (!fold_) {
    kept_[update.client_id] = std::move(update);
    return Status();
  }
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(fold_->add(update));
  tracker_->observe(update.client_id, update.state);
  fold_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status();  // `update` and its tensors go here
}

StatusOr<RoundAggregation::Result> RoundAggregation::finish(std::span<const int> failures) {
  Result result;
  std::vector<ClientUpdate> updates;
  if (fold_) {
    ASSIGN_OR_RETURN(result.next, fold_->finish(AggregationRound{round_, &global_, {}, failures}));
    result.inexact_elements = fold_->inexact_elements();
  } else {
    updates.reserve(kept_.size());
    for (auto& [id, u] : kept_) updates.push_back(std::move(u));
    kept_.clear();
    ASSIGN_OR_RETURN(result.next, rule_.aggregate(AggregationRound{round_, &global_, updates, failures}));
  }
  RETURN_IF_ERROR(global_.check_same_layout(result.next).with_context("aggregator returned a model of another layout"));
  RETURN_IF_ERROR(result.next.check_finite().with_context("aggregated model"));
  result.next = result.next.to_cpu();
  if (fold_) {
    result.divergence = tracker_->finish(result.next);
  } else {
    for (const auto& u : updates) result.divergence[u.client_id] = client_divergence(u.state, global_, result.next);
  }
  result.fold_seconds = fold_seconds_;
  return result;
}

}  // namespace flotilla
