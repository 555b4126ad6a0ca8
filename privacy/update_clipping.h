// The client-level update of DP-FedAvg: delta = trained - global over the floating-point tensors
// (integer tensors are counters such as BatchNorm's num_batches_tracked: not part of the release,
// left at the global model's value), clipped to an L2 norm and, for local DP, noised.
#pragma once

#include <cstdint>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// The extra an update carries under adaptive clipping: 1 if the update was within the clip norm
// before clipping, else 0 (a float32 scalar).
inline constexpr const char* kUnclippedExtra = "dp.unclipped";

// The L2 norm over every floating-point element of `delta`, accumulated in float64.
double update_l2_norm(const ModelState& delta);

// Scales the floating-point tensors of `delta` by min(1, clip_norm / norm) in place (norm is
// update_l2_norm's); returns the norm it had.
double clip_update(ModelState& delta, double clip_norm);

// What a client sends under --dp: its model, rebuilt as global + clip(trained - global) (+ noise of
// `noise_stddev` per element when > 0, from `noise_seed`), and whether the update was within the
// clip norm before clipping (the bit adaptive clipping counts).
struct PrivatisedUpdate {
  ModelState state;
  bool within_clip_norm = true;
  double norm = 0.0;  // before clipping; stays on the client
};
StatusOr<PrivatisedUpdate> privatise_update(const ModelState& global, const ModelState& trained, double clip_norm,
                                            double noise_stddev, uint64_t noise_seed);

}  // namespace flotilla
