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

}  // namespace flotilla
