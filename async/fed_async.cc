#include "async/fed_async.h"

#include <ATen/ATen.h>

namespace flotilla {

FedAsync::FedAsync(double alpha) : alpha_(alpha) {
  FLOTILLA_CHECK(alpha > 0 && alpha <= 1) << "FedAsync alpha " << alpha << " outside (0, 1]";
}

StatusOr<Absorbed> FedAsync::absorb(const AsyncContribution& c) {
  const double a = alpha_ * c.staleness_weight;
  ModelState next;
  for (size_t i = 0; i < c.global->size(); ++i) {
    const at::Tensor& x = (*c.global)[i].tensor;
    const at::Tensor& y = (*c.trained)[i].tensor;
    at::Tensor mixed;
    if (x.is_floating_point()) {
      mixed = x * (1.0 - a) + y * a;
    } else {
      // Counters: the same mix in double, to the nearest integer (bool: the nearer of the two).
      mixed = at::round(x.to(at::kDouble) * (1.0 - a) + y.to(at::kDouble) * a).to(x.scalar_type());
    }
    next.add((*c.global)[i].name, std::move(mixed));
  }
  return Absorbed{std::move(next), a};
}

}  // namespace flotilla
