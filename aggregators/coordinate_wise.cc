#include "aggregators/coordinate_wise.h"

#include <ATen/ATen.h>

#include <cmath>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/server_step.h"
#include "aggregators/weighted_average.h"

namespace flotilla {

StatusOr<ModelState> CoordinateWise::aggregate(const AggregationRound& round) {
  ASSIGN_OR_RETURN(ModelState next, weighted_average(round.updates));  // counters, and the layout
  const int64_t n = static_cast<int64_t>(round.updates.size());
  const int64_t trim =
      trim_fraction_ < 0 ? 0 : static_cast<int64_t>(std::floor(trim_fraction_ * static_cast<double>(n)));
  if (trim_fraction_ >= 0 && 2 * trim >= n) {
    return invalid_argument_error("trimmed_mean with beta " + std::to_string(trim_fraction_) + " trims " +
                                  std::to_string(2 * trim) + " of " + std::to_string(n) + " updates: nothing is left");
  }
  for (size_t i = 0; i < next.size(); ++i) {
    if (!next[i].tensor.is_floating_point()) continue;
    std::vector<at::Tensor> column;
    for (const auto& u : round.updates) column.push_back(u.state[i].tensor);
    const at::Tensor sorted = std::get<0>(at::stack(column).to(at::kDouble).sort(0));
    at::Tensor value;
    if (trim_fraction_ < 0) {
      value = (sorted.select(0, (n - 1) / 2) + sorted.select(0, n / 2)) / 2;
    } else {
      value = sorted.narrow(0, trim, n - 2 * trim).mean(0);
    }
    next.mutable_entries()[i].tensor = value.to(next[i].tensor.scalar_type());
  }
  return apply_server_lr(*round.global, std::move(next), server_lr_);
}

Status CoordinateWise::restore_state(const ModelState& state) {
  return check_stateless(trim_fraction_ < 0 ? "median" : "trimmed_mean", state);
}

AggregatorRegistry::Entry CoordinateWise::median_entry() {
  return {"median",
          "coordinate-wise median of the client models (Yin et al. 2018); unweighted",
          {server_lr_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double lr, read_positive(o, "server_lr"));
            return std::unique_ptr<Aggregator>(new CoordinateWise(-1, lr));
          }};
}

AggregatorRegistry::Entry CoordinateWise::trimmed_mean_entry() {
  return {"trimmed_mean",
          "coordinate-wise beta-trimmed mean (Yin et al. 2018); unweighted",
          {{"beta", "0.1", "fraction trimmed from each end: floor(beta * n) largest and smallest values"},
           server_lr_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double beta, o.get_double("beta"));
            if (!(beta >= 0 && beta < 0.5)) return invalid_argument_error("beta must be in [0, 0.5)");
            ASSIGN_OR_RETURN(double lr, read_positive(o, "server_lr"));
            return std::unique_ptr<Aggregator>(new CoordinateWise(beta, lr));
          }};
}

}  // namespace flotilla
