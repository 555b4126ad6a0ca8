#include "aggregators/server_step.h"

#include <ATen/ATen.h>

namespace flotilla {

ModelState apply_server_lr(const ModelState& global, ModelState aggregate, double server_lr) {
  if (server_lr == 1.0) return aggregate;  // exactly the aggregate, no rounding detour
  for (size_t i = 0; i < aggregate.size(); ++i) {
    const at::Tensor& w = global[i].tensor;
    if (!w.is_floating_point()) continue;
    at::Tensor& a = aggregate.mutable_entries()[i].tensor;
    a = w + (a - w) * server_lr;
  }
  return aggregate;
}

}  // namespace flotilla
