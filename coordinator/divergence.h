// How far a client's model drifted, measured over the floating-point tensors:
//   to_previous = ||w_k - w_prev|| / ||w_prev||   (how far local training moved it)
//   to_new      = ||w_k - w_new||  / ||w_new||    (how far it is from the aggregate)
//   cosine      = cos(w_k - w_prev, w_new - w_prev) (does it agree with the aggregated update)
#pragma once

#include "core/model_state.h"

namespace flotilla {

struct Divergence {
  double to_previous = 0.0;
  double to_new = 0.0;
  double cosine = 0.0;  // NaN when either update is zero
};

// All three states share one layout.
Divergence client_divergence(const ModelState& client, const ModelState& previous, const ModelState& next);

}  // namespace flotilla
