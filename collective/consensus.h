// Consensus distance: how far N replicas of a model are from agreeing, the quantity gossip drives to
// zero. (1/N) sum_i ||x_i - x_bar||_2, the norm over all elements of all tensors, x_bar the plain
// mean of the replicas, everything accumulated in float64.
#pragma once

#include <span>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// InvalidArgument when `states` is empty or the layouts differ (naming the first difference).
StatusOr<double> consensus_distance(std::span<const ModelState> states);

}  // namespace flotilla
