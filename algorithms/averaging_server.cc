#include "algorithms/averaging_server.h"

#include "aggregators/rule_state.h"

namespace flotilla {

// No extras are expected: WeightedMeanFold refuses an update that carries some (sent by another
// client half).
std::unique_ptr<UpdateFold> AveragingServer::begin_fold(const ModelState& global) {
  return std::make_unique<WeightedMeanFold>(
      global, [this](const AggregationRound& round, ModelState mean) { return server_step(round, std::move(mean)); });
}

StatusOr<ModelState> AveragingServer::aggregate(const AggregationRound& round) {
  return aggregate_by_folding(*this, round);
}

StatusOr<ModelState> AveragingServer::server_step(const AggregationRound& round, ModelState mean) {
  (void)round;
  return mean;
}

Status AveragingServer::restore_state(const ModelState& state) { return check_stateless(rule_, state); }

}  // namespace flotilla
