// A tensor or sample shape as flags and messages write it: {1, 28, 28} -> "1x28x28", {13} -> "13".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flotilla {

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out;
  for (int64_t d : shape) out += (out.empty() ? "" : "x") + std::to_string(d);
  return out.empty() ? "a scalar" : out;
}

}  // namespace flotilla
