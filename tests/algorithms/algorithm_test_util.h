// Builds both halves of the built-in algorithms by name, as the coordinator and the client do,
// and small helpers for the hand computations of the tests.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "algorithms/builtin.h"
#include "core/check.h"

namespace flotilla::testing_util {

inline std::unique_ptr<Aggregator> make_server(const std::string& name, Options options = {}) {
  AggregatorRegistry registry("aggregator");
  FLOTILLA_CHECK(register_builtin_algorithms(registry).ok());
  auto a = registry.create(name, std::move(options));
  FLOTILLA_CHECK(a.ok()) << a.status();
  return std::move(a).value();
}

inline std::unique_ptr<ClientAlgorithm> make_client(const std::string& name, Options options = {}) {
  ClientAlgorithmRegistry registry("client algorithm");
  FLOTILLA_CHECK(register_builtin_client_algorithms(registry).ok());
  auto c = registry.create(name, std::move(options));
  FLOTILLA_CHECK(c.ok()) << c.status();
  return std::move(c).value();
}

// The tensor's values as doubles, row-major.
inline std::vector<double> values(const at::Tensor& t) {
  at::Tensor d = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

inline at::Tensor from_values(const std::vector<double>& v, at::IntArrayRef shape, at::ScalarType dtype) {
  return at::tensor(v, at::kDouble).reshape(shape).to(dtype);
}

}  // namespace flotilla::testing_util
