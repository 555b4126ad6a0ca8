#include "collective/data_parallel.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace flotilla {

StatusOr<CollectiveStats> allreduce_gradients(PeerTransport& transport, std::span<const at::Tensor> parameters,
                                              const CollectiveOptions& options) {
  std::vector<at::Tensor> grads;
  grads.reserve(parameters.size());
  // An undefined gradient stays in the list: ring_allreduce then refuses it and tells the other
  // ranks (abort message), so they fail at once rather than time out.
  for (const at::Tensor& parameter : parameters) grads.push_back(parameter.grad());
  auto reduced = ring_allreduce(transport, grads, options);
  if (!reduced.ok()) return reduced.status().with_context("averaging gradients (was backward() run on every rank?)");
  CollectiveStats stats = *reduced;
  at::NoGradGuard no_grad;
  for (at::Tensor& grad : grads) grad.div_(transport.size());
  return stats;
}

}  // namespace flotilla
