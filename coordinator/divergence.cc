#include "coordinator/divergence.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace flotilla {

Divergence client_divergence(const ModelState& client, const ModelState& previous, const ModelState& next) {
  double d_prev = 0, n_prev = 0, d_new = 0, n_new = 0, dot = 0, n_update = 0;
  for (size_t i = 0; i < client.size(); ++i) {
    if (!client[i].tensor.is_floating_point()) continue;
    const at::Tensor wk = client[i].tensor.to(at::kDouble);
    const at::Tensor wp = previous[i].tensor.to(at::kDouble);
    const at::Tensor wn = next[i].tensor.to(at::kDouble);
    const at::Tensor uk = wk - wp;
    const at::Tensor u = wn - wp;
    d_prev += uk.square().sum().item<double>();
    n_prev += wp.square().sum().item<double>();
    d_new += (wk - wn).square().sum().item<double>();
    n_new += wn.square().sum().item<double>();
    dot += (uk * u).sum().item<double>();
    n_update += u.square().sum().item<double>();
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Divergence d;
  d.to_previous = n_prev > 0 ? std::sqrt(d_prev / n_prev) : kNaN;
  d.to_new = n_new > 0 ? std::sqrt(d_new / n_new) : kNaN;
  d.cosine = (d_prev > 0 && n_update > 0) ? dot / std::sqrt(d_prev * n_update) : kNaN;
  return d;
}

}  // namespace flotilla
