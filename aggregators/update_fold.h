// Folds: one round's aggregation done as the updates arrive, for rules that are sums. The
// interface, UpdateFold, is in aggregators/aggregator.h; here are the fold every averaging rule
// uses and the helper that makes aggregate() the same computation.
//
// A rule whose aggregate is a function of a sum over the updates (FedAvg, FedAvgM, the FedOpt
// family...) returns a fold from Aggregator::begin_fold(). The coordinator then adds each update
// the moment it is accepted and drops it, so its memory is O(model) whatever the number of
// clients, and most of the work is done by the time the last update lands. Rules that need every
// update at once (median, trimmed mean, Krum) return no fold and get the whole round in
// aggregate(), as before.
//
// Contract: adding the same updates in any order, then finish(), gives bit-for-bit the model
// aggregate() gives for them. WeightedMeanFold keeps it by summing exactly
// (aggregators/exact_weighted_sum.h); a plugin's own fold must keep it too (its tests should add
// updates in shuffled orders and compare bits).
#pragma once

#include <functional>
#include <memory>

#include "aggregators/aggregator.h"
#include "aggregators/exact_weighted_sum.h"

namespace flotilla {

// The sample-weighted mean of the states (what FedAvg computes), then `step` turns it into the
// new global model (the server learning rate, momentum, adaptive moments). Updates with extras
// are refused: a rule whose client half sends extras folds them itself.
class WeightedMeanFold final : public UpdateFold {
 public:
  using Step = std::function<StatusOr<ModelState>(const AggregationRound& round, ModelState mean)>;
  WeightedMeanFold(const ModelState& global, Step step) : sum_(global), step_(std::move(step)) {}

  Status add(const ClientUpdate& update) override;
  int count() const override { return static_cast<int>(sum_.count()); }
  StatusOr<ModelState> finish(const AggregationRound& round) override;
  int64_t inexact_elements() const override { return sum_.inexact_elements(); }

 private:
  ExactWeightedSum sum_;
  Step step_;
};

// aggregate() of a rule that folds: begins a fold, adds round.updates, finishes. Rules implement
// aggregate() with it, so the all-at-once and the streaming paths are one computation.
StatusOr<ModelState> aggregate_by_folding(Aggregator& rule, const AggregationRound& round);

}  // namespace flotilla
