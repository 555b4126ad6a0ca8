// The arithmetic of FedAvg, apart from any policy: the sample-weighted mean of client states.
#pragma once

#include <span>

#include "aggregators/aggregator.h"

namespace flotilla {

// Sum_k n_k * w_k / Sum_k n_k, tensor by tensor, summed exactly (aggregators/exact_weighted_sum.h)
// so that the result does not depend on the updates' order, and rounded to each tensor's dtype. Integer tensors (e.g.
// BatchNorm's num_batches_tracked) get the weighted mean rounded to the nearest integer; bool
// tensors the weighted majority. Updates must share one layout (checked by the coordinator).
// InvalidArgument if there are no updates, a weight is negative, or all weights are zero.
StatusOr<ModelState> weighted_average(std::span<const ClientUpdate> updates);

}  // namespace flotilla
