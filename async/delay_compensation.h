// Delay compensation from DC-ASGD (Zheng et al. 2017), applied to a whole local-training delta.
//
// DC-ASGD corrects a gradient g computed at a stale point x_base for use at x_now with the first
// term of its Taylor expansion, the Hessian approximated by lambda * g (.) g (element-wise):
//     g~ = g + lambda * g (.) g (.) (x_now - x_base).
// A client's delta d = x_client - x_base is treated as one step of SGD with the client learning
// rate eta, d = -eta * g, so g = -d / eta and the compensated delta d~ = -eta * g~ is
//     d~ = -eta * (-d/eta + lambda * (d/eta)^2 (.) (x_now - x_base))
//        = d - (lambda / eta) * d (.) d (.) (x_now - x_base),
// and the compensated client model is x_base + d~. (For many local steps this treats their sum as
// one step: an approximation, as in asynchronous FL papers that adopt DC.) With lambda = 0
// compensate_delay returns `trained` itself, and the server does not call it for tau = 0 (x_now is
// x_base), so in both cases the rule is bit-for-bit the uncompensated one.
#pragma once

#include "core/model_state.h"

namespace flotilla {

struct DelayCompensation {
  double lambda = 0.0;     // >= 0; 0 = off
  double client_lr = 1.0;  // eta, > 0: the clients' learning rate, which sets lambda's scale
};

// Floating tensors compensated as above (computed in float64, rounded to the dtype); integer and
// bool tensors are the client's. All three states share one layout (checked by the caller).
ModelState compensate_delay(const ModelState& base, const ModelState& now, const ModelState& trained,
                            const DelayCompensation& dc);

}  // namespace flotilla
