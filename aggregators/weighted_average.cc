#include "aggregators/weighted_average.h"

#include "aggregators/exact_weighted_sum.h"

namespace flotilla {

StatusOr<ModelState> weighted_average(std::span<const ClientUpdate> updates) {
  if (updates.empty()) return invalid_argument_error("no client updates to average");
  ExactWeightedSum sum(updates.front().state);
  for (const auto& u : updates) {
    if (u.num_samples < 0)
      return invalid_argument_error("client " + std::to_string(u.client_id) + " reported a negative sample count");
    RETURN_IF_ERROR(sum.add(u.state, u.num_samples).with_context("client " + std::to_string(u.client_id)));
  }
  return sum.mean();
}

}  // namespace flotilla
