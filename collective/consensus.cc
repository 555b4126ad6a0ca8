#include "collective/consensus.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

namespace flotilla {

StatusOr<double> consensus_distance(std::span<const ModelState> states) {
  if (states.empty()) return invalid_argument_error("consensus distance of no states");
  for (size_t i = 1; i < states.size(); ++i) {
    RETURN_IF_ERROR(states[0].check_same_layout(states[i]).with_context("state " + std::to_string(i)));
  }
  const size_t n = states.size();
  std::vector<double> squared(n, 0.0);
  for (size_t t = 0; t < states[0].size(); ++t) {
    std::vector<at::Tensor> replicas;
    for (const ModelState& state : states) replicas.push_back(state[t].tensor.to(at::kCPU, at::kDouble).reshape({-1}));
    const at::Tensor mean = at::stack(replicas).mean(0);
    for (size_t i = 0; i < n; ++i) squared[i] += (replicas[i] - mean).pow(2).sum().item<double>();
  }
  double total = 0;
  for (double s : squared) total += std::sqrt(s);
  return total / static_cast<double>(n);
}

}  // namespace flotilla
