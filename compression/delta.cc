#include "compression/delta.h"

#include <ATen/ATen.h>

namespace flotilla {
namespace {

at::Tensor cpu(const at::Tensor& t) { return t.detach().to(at::kCPU).contiguous(); }

}  // namespace

StatusOr<ModelState> compute_delta(const ModelState& trained, const ModelState& global) {
  RETURN_IF_ERROR(global.check_same_layout(trained).with_context("computing an update"));
  ModelState out;
  for (size_t i = 0; i < trained.size(); ++i) {
    const at::Tensor t = cpu(trained[i].tensor);
    out.add(trained[i].name, t.is_floating_point() ? at::sub(t, cpu(global[i].tensor)) : t.clone());
  }
  return out;
}

StatusOr<ModelState> apply_delta(const ModelState& global, const ModelState& delta) {
  RETURN_IF_ERROR(global.check_same_layout(delta).with_context("applying an update"));
  ModelState out;
  for (size_t i = 0; i < global.size(); ++i) {
    const at::Tensor d = cpu(delta[i].tensor);
    out.add(global[i].name, d.is_floating_point() ? at::add(cpu(global[i].tensor), d) : d.clone());
  }
  return out;
}

ModelState add_floating_delta(const ModelState& global, const ModelState& delta, double divisor) {
  ModelState out;
  for (size_t i = 0; i < global.size(); ++i) {
    const at::Tensor g = global[i].tensor.to(at::kCPU);
    if (!g.is_floating_point()) {
      out.add(global[i].name, g.clone());
      continue;
    }
    const at::Tensor d = delta[i].tensor.to(at::kDouble);
    out.add(global[i].name, at::add(g.to(at::kDouble), divisor == 1.0 ? d : at::div(d, divisor)).to(g.scalar_type()));
  }
  return out;
}

}  // namespace flotilla
