// How far a client's model drifted, measured over the floating-point tensors:
//   to_previous = ||w_k - w_prev|| / ||w_prev||   (how far local training moved it)
//   to_new      = ||w_k - w_new||  / ||w_new||    (how far it is from the aggregate)
//   cosine      = cos(w_k - w_prev, w_new - w_prev) (does it agree with the aggregated update)
//
// With streaming aggregation the updates are gone by the time the new model is known, so
// DivergenceTracker measures each update as it arrives (its distance to the previous model, and
// a sketch of it) and completes the other two measures from the sketches: exactly for models of
// up to kSketchSize floating-point elements, and for larger ones from a CountSketch (the distance
// and cosine within about 1/sqrt(kSketchSize), 1%, relative), in O(kSketchSize) memory per
// client. to_previous is always exact.
#pragma once

#include <map>
#include <vector>

#include "core/model_state.h"

namespace flotilla {

struct Divergence {
  double to_previous = 0.0;
  double to_new = 0.0;
  double cosine = 0.0;  // NaN when either update is zero
};

// All three states share one layout.
Divergence client_divergence(const ModelState& client, const ModelState& previous, const ModelState& next);

class DivergenceTracker {
 public:
  static constexpr int64_t kSketchSize = int64_t{1} << 14;

  explicit DivergenceTracker(const ModelState& previous);
  // Measures `client` (same layout as `previous`) now, so that it need not be kept.
  void observe(int client_id, const ModelState& client);
  // The three measures of every observed client, given the new model.
  std::map<int, Divergence> finish(const ModelState& next) const;
  // True when the measures are computed exactly (the model is no larger than the sketch).
  bool exact() const { return exact_; }

 private:
  struct Observed {
    double squared_norm = 0;     // ||w_k - w_prev||^2
    std::vector<double> sketch;  // CountSketch of w_k - w_prev (the vector itself when exact_)
  };
  // ||state - previous||^2 over the floating tensors, and its sketch.
  Observed measure(const ModelState& state) const;

  ModelState previous_;
  double previous_squared_norm_ = 0;
  bool exact_ = true;
  std::map<int, Observed> observed_;
};

}  // namespace flotilla
