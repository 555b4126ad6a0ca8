#include "aggregators/update_fold.h"

namespace flotilla {

Status WeightedMeanFold::add(const ClientUpdate& update) {
  if (!update.extras.empty())
    return invalid_argument_error("client " + std::to_string(update.client_id) + " sent extras ('" +
                                  update.extras[0].name + "'); this rule expects none");
  if (update.num_samples < 0)
    return invalid_argument_error("client " + std::to_string(update.client_id) + " reported a negative sample count");
  return sum_.add(update.state, update.num_samples).with_context("client " + std::to_string(update.client_id));
}

StatusOr<ModelState> WeightedMeanFold::finish(const AggregationRound& round) {
  ASSIGN_OR_RETURN(ModelState mean, sum_.mean());
  return step_(round, std::move(mean));
}

StatusOr<ModelState> aggregate_by_folding(Aggregator& rule, const AggregationRound& round) {
  if (round.global == nullptr) return invalid_argument_error("no global model to aggregate into");
  std::unique_ptr<UpdateFold> fold = rule.begin_fold(*round.global);
  if (!fold) return internal_error("aggregate_by_folding called for a rule that does not fold");
  for (const auto& update : round.updates) RETURN_IF_ERROR(fold->add(update));
  AggregationRound folded = round;
  folded.updates = {};
  return fold->finish(folded);
}

}  // namespace flotilla
