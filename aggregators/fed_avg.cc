#include "aggregators/fed_avg.h"

#include <ATen/ATen.h>

#include "aggregators/weighted_average.h"

namespace flotilla {

StatusOr<ModelState> FedAvg::aggregate(const AggregationRound& round) {
  ASSIGN_OR_RETURN(ModelState average, weighted_average(round.updates));
  if (options_.server_lr == 1.0) return average;  // exactly the mean, no rounding detour
  ModelState out;
  for (size_t i = 0; i < average.size(); ++i) {
    const at::Tensor& w = (*round.global)[i].tensor;
    const at::Tensor& avg = average[i].tensor;
    if (!w.is_floating_point()) {
      out.add(average[i].name, avg);  // counters are not "moved", they are taken
      continue;
    }
    out.add(average[i].name, w + (avg - w) * options_.server_lr);
  }
  return out;
}

AggregatorRegistry::Entry FedAvg::registry_entry() {
  return {"fedavg",
          "Federated averaging, weighted by client sample counts (McMahan et al. 2017)",
          {{"server_lr", "1.0", "server learning rate eta: w <- w + eta * (mean(w_k) - w)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double lr, o.get_double("server_lr"));
            if (lr <= 0) return invalid_argument_error("server_lr must be > 0, got " + std::to_string(lr));
            return std::unique_ptr<Aggregator>(new FedAvg(FedAvgOptions{lr}));
          }};
}

}  // namespace flotilla
