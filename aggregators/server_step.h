// The server's step for averaging rules: w <- w + eta * (aggregate - w). With eta = 1 the new
// model is the aggregate itself; with one local step per round and eta = the step size this is
// synchronous parameter-server SGD (FedSGD).
#pragma once

#include "core/model_state.h"
#include "core/options.h"

namespace flotilla {

// Floating-point tensors move by `server_lr`; integer and bool tensors (counters such as
// num_batches_tracked) are taken from `aggregate` as they are.
ModelState apply_server_lr(const ModelState& global, ModelState aggregate, double server_lr);

// Declares the server_lr option every averaging rule takes.
inline OptionSpec server_lr_option() {
  return {"server_lr", "1.0", "server learning rate eta: w <- w + eta * (aggregate - w); 1 = take the aggregate"};
}

}  // namespace flotilla
