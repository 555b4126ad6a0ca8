#include "aggregators/weighted_average.h"

#include <ATen/ATen.h>

namespace flotilla {

StatusOr<ModelState> weighted_average(std::span<const ClientUpdate> updates) {
  if (updates.empty()) return invalid_argument_error("no client updates to average");
  double total = 0;
  for (const auto& u : updates) {
    if (u.num_samples < 0)
      return invalid_argument_error("client " + std::to_string(u.client_id) + " reported a negative sample count");
    total += static_cast<double>(u.num_samples);
  }
  if (total <= 0) return invalid_argument_error("all client updates have zero samples: nothing to weight by");

  ModelState out;
  const ModelState& first = updates.front().state;
  for (size_t i = 0; i < first.size(); ++i) {
    const at::Tensor& like = first[i].tensor;
    at::Tensor sum = at::zeros(like.sizes(), like.options().dtype(at::kDouble));
    for (const auto& u : updates) {
      const double w = static_cast<double>(u.num_samples) / total;
      sum.add_(u.state[i].tensor.to(at::kDouble), w);
    }
    at::Tensor mean;
    if (like.is_floating_point()) {
      mean = sum.to(like.scalar_type());
    } else if (like.scalar_type() == at::kBool) {
      mean = sum.ge(0.5);
    } else {
      mean = sum.round().to(like.scalar_type());
    }
    out.add(first[i].name, std::move(mean));
  }
  return out;
}

}  // namespace flotilla
