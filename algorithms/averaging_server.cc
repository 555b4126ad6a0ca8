#include "algorithms/averaging_server.h"

#include "aggregators/rule_state.h"
#include "aggregators/weighted_average.h"

namespace flotilla {

StatusOr<ModelState> AveragingServer::aggregate(const AggregationRound& round) {
  // No extras are expected; an update that carries some was sent by another client half.
  for (const auto& u : round.updates)
    if (!u.extras.empty())
      return invalid_argument_error(rule_ + ": client " + std::to_string(u.client_id) + " sent extras ('" +
                                    u.extras[0].name + "'), this rule expects none");
  return weighted_average(round.updates);
}

Status AveragingServer::restore_state(const ModelState& state) { return check_stateless(rule_, state); }

}  // namespace flotilla
