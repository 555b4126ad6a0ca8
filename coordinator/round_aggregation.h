// RoundAggregation: how one round's accepted updates become the next global model, and how far
// each client drifted.
//
// When the rule is a sum (Aggregator::begin_fold() returns a fold), each update is folded in and
// measured the moment it is accepted, and its tensors are dropped: the coordinator holds O(model)
// whatever the number of clients, and by the time the last update lands only the last fold and
// the server step are left. Otherwise (median, Krum, plugins that need the whole round) updates
// are kept until the round ends, as the rule needs. Either way the result does not depend on the
// order the updates arrived in: folds sum exactly (aggregators/exact_weighted_sum.h), and kept
// updates are handed over in client-id order.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "aggregators/aggregator.h"
#include "coordinator/divergence.h"

namespace flotilla {

class RoundAggregation {
 public:
  // `global`: the model the round's clients start from (kept, shared, for the server step).
  RoundAggregation(Aggregator& rule, ModelState global, int round);

  bool streaming() const { return fold_ != nullptr; }

  // Takes an accepted update. An error (the fold refused it) leaves the round as it was.
  Status add(ClientUpdate update);
  int count() const;

  struct Result {
    ModelState next;                       // the new global model, on the CPU, layout checked
    std::map<int, Divergence> divergence;  // by client id
    int64_t inexact_elements = 0;          // of the fold's sums (0: order-independent)
    double fold_seconds = 0;               // spent folding while updates arrived
  };
  // The new global model from everything added; `failures` as AggregationRound has them.
  StatusOr<Result> finish(std::span<const int> failures);

 private:
  Aggregator& rule_;
  ModelState global_;
  int round_;
  std::unique_ptr<UpdateFold> fold_;
  std::unique_ptr<DivergenceTracker> tracker_;  // streaming only
  std::map<int, ClientUpdate> kept_;            // not streaming: by client id
  double fold_seconds_ = 0;
};

}  // namespace flotilla
