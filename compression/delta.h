// Update arithmetic: the delta a client compresses (trained - global) and the model the
// coordinator rebuilds from one (global + delta). Element-wise in each tensor's own dtype, so
// float32 tensors are computed in float32, every element by one IEEE-rounded operation: the same
// bits on every machine and thread count. Integer and bool tensors (BatchNorm's
// num_batches_tracked) are counters, not parameters: their "delta" is the trained value itself.
// Note apply_delta(global, compute_delta(trained, global)) equals trained only up to one rounding
// per element (g + (t - g) need not be t in floating point).
#pragma once

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// trained - global for floating-point tensors, trained's value for the others. InvalidArgument
// when the layouts differ. Contiguous CPU tensors.
StatusOr<ModelState> compute_delta(const ModelState& trained, const ModelState& global);

// global + delta for floating-point tensors, delta's value for the others. InvalidArgument when
// the layouts differ. Contiguous CPU tensors.
StatusOr<ModelState> apply_delta(const ModelState& global, const ModelState& delta);

// global + delta / divisor for the floating-point tensors, computed in float64 and stored in the
// global tensor's dtype (the delta may be float64, e.g. a sum or a noised mean); the other tensors
// keep the global model's value (a server-side mean has no counters to take). `delta` has the
// global model's names and shapes. CPU tensors.
ModelState add_floating_delta(const ModelState& global, const ModelState& delta, double divisor = 1.0);

}  // namespace flotilla
