// A Flotilla plugin: norm-clipped FedAvg. Each client's update (w_k - w) is scaled down to at
// most `max_norm` in L2 norm before the sample-weighted average, which bounds how far any single
// client can pull the global model (the clipping step of DP-FedAvg, without the noise).
//
// Build against an installed Flotilla, then run
//   flotilla-coordinator --plugin ./libmy_rule.so --aggregator clipped_fedavg --aggregator-opt max_norm=5 ...
#include <ATen/ATen.h>

#include <cmath>

#include "aggregators/aggregator.h"
#include "aggregators/weighted_average.h"
#include "core/plugin_api.h"

namespace {

using namespace flotilla;

class ClippedFedAvg final : public Aggregator {
 public:
  explicit ClippedFedAvg(double max_norm) : max_norm_(max_norm) {}

  StatusOr<ModelState> aggregate(const AggregationRound& round) override {
    const ModelState& global = *round.global;
    std::vector<ClientUpdate> clipped;
    for (const ClientUpdate& u : round.updates) {
      double squared = 0;
      for (size_t i = 0; i < global.size(); ++i)
        if (global[i].tensor.is_floating_point())
          squared += (u.state[i].tensor - global[i].tensor).to(at::kDouble).square().sum().item<double>();
      const double scale = std::min(1.0, max_norm_ / (std::sqrt(squared) + 1e-12));
      ClientUpdate c{u.client_id, u.num_samples, ModelState(), u.train_loss};
      for (size_t i = 0; i < global.size(); ++i) {
        const at::Tensor& w = global[i].tensor;
        const at::Tensor& wk = u.state[i].tensor;
        c.state.add(global[i].name, w.is_floating_point() ? w + (wk - w) * scale : wk);
      }
      clipped.push_back(std::move(c));
    }
    return weighted_average(clipped);
  }

  // Checkpoints: a rule that keeps nothing across rounds saves an empty state and refuses a
  // non-empty one. A rule with state (server momentum, a step counter) returns it here as named
  // tensors (deep copies; scalars as 0-dim tensors) and takes it back in restore_state, so that a
  // resumed run continues exactly where it stopped.
  ModelState save_state() const override { return ModelState(); }
  Status restore_state(const ModelState& state) override {
    if (state.empty()) return Status();
    return invalid_argument_error("clipped_fedavg keeps no state, but was given '" + state[0].name + "'");
  }

 private:
  double max_norm_;
};

}  // namespace

FLOTILLA_PLUGIN(registrar) {
  return registrar.aggregators->add({"clipped_fedavg",
                                     "FedAvg over client updates clipped to an L2 norm (example plugin)",
                                     {{"max_norm", "10.0", "largest L2 norm of a client update w_k - w"}},
                                     [](const Options& options) -> StatusOr<std::unique_ptr<Aggregator>> {
                                       ASSIGN_OR_RETURN(double max_norm, options.get_double("max_norm"));
                                       if (max_norm <= 0) return invalid_argument_error("max_norm must be > 0");
                                       return std::unique_ptr<Aggregator>(new ClippedFedAvg(max_norm));
                                     }});
}
