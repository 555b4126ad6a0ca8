#include "privacy/update_clipping.h"

#include <ATen/ATen.h>

#include <cmath>

#include "compression/delta.h"
#include "privacy/gaussian_noise.h"

namespace flotilla {

double update_l2_norm(const ModelState& delta) {
  double squares = 0.0;
  for (const auto& entry : delta.entries())
    if (entry.tensor.is_floating_point()) squares += entry.tensor.to(at::kDouble).square().sum().item<double>();
  return std::sqrt(squares);
}

double clip_update(ModelState& delta, double clip_norm) {
  const double norm = update_l2_norm(delta);
  if (norm <= clip_norm) return norm;
  const double scale = clip_norm / norm;
  for (auto& entry : delta.mutable_entries())
    if (entry.tensor.is_floating_point())
      entry.tensor = at::mul(entry.tensor.to(at::kDouble), scale).to(entry.tensor.scalar_type());
  return norm;
}

StatusOr<PrivatisedUpdate> privatise_update(const ModelState& global, const ModelState& trained, double clip_norm,
                                            double noise_stddev, uint64_t noise_seed) {
  ASSIGN_OR_RETURN(ModelState delta, compute_delta(trained, global));
  // Counters stay at the global model's value: they are not part of the private release.
  for (size_t i = 0; i < delta.size(); ++i)
    if (!delta[i].tensor.is_floating_point()) delta.mutable_entries()[i].tensor = global[i].tensor.to(at::kCPU).clone();
  PrivatisedUpdate out;
  out.norm = clip_update(delta, clip_norm);
  out.within_clip_norm = out.norm <= clip_norm;
  if (noise_stddev > 0) add_gaussian_noise(delta, noise_stddev, noise_seed);
  ASSIGN_OR_RETURN(out.state, apply_delta(global, delta));
  return out;
}

}  // namespace flotilla
