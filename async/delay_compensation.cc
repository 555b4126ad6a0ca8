#include "async/delay_compensation.h"

#include <ATen/ATen.h>

namespace flotilla {

ModelState compensate_delay(const ModelState& base, const ModelState& now, const ModelState& trained,
                            const DelayCompensation& dc) {
  if (dc.lambda == 0.0) return trained;  // exactly the uncompensated update, no rounding detour
  ModelState out;
  for (size_t i = 0; i < trained.size(); ++i) {
    const at::Tensor& t = trained[i].tensor;
    if (!t.is_floating_point()) {
      out.add(trained[i].name, t);
      continue;
    }
    const at::Tensor b = base[i].tensor.to(at::kDouble);
    const at::Tensor d = t.to(at::kDouble) - b;
    const at::Tensor drift = now[i].tensor.to(at::kDouble) - b;
    const at::Tensor compensated = d - (dc.lambda / dc.client_lr) * d * d * drift;
    out.add(trained[i].name, (b + compensated).to(t.scalar_type()));
  }
  return out;
}

}  // namespace flotilla
