// Coordinate-wise robust statistics (Yin et al. 2018, "Byzantine-Robust Distributed Learning"):
//   median        the per-coordinate median of the client models (mean of the two middle values
//                 when the count is even)
//   trimmed_mean  per coordinate, drop the k = floor(beta * n) largest and k smallest values and
//                 average the rest
// Both are unweighted: a Byzantine client could lie about its sample count. Integer tensors
// (counters) take the weighted average, rounded. The server step (server_lr) follows.
#pragma once

#include "aggregators/aggregator.h"

namespace flotilla {

class CoordinateWise final : public Aggregator {
 public:
  // trim_fraction < 0 means median.
  CoordinateWise(double trim_fraction, double server_lr) : trim_fraction_(trim_fraction), server_lr_(server_lr) {}
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  ModelState save_state() const override { return ModelState(); }  // stateless
  Status restore_state(const ModelState& state) override;

  static AggregatorRegistry::Entry median_entry();
  static AggregatorRegistry::Entry trimmed_mean_entry();

 private:
  double trim_fraction_;
  double server_lr_;
};

}  // namespace flotilla
