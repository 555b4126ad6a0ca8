// A tensor or sample shape as flags and messages write it: {1, 28, 28} <-> "1x28x28", {13} <-> "13".
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace flotilla {

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out;
  for (int64_t d : shape) out += (out.empty() ? "" : "x") + std::to_string(d);
  return out.empty() ? "a scalar" : out;
}

// "1x28x28" -> {1, 28, 28}, "13" -> {13}: positive integers joined by 'x' (no signs or spaces);
// InvalidArgument quoting `text` otherwise.
inline StatusOr<std::vector<int64_t>> parse_shape_text(std::string_view text) {
  std::vector<int64_t> shape;
  for (size_t pos = 0; pos <= text.size();) {
    const size_t end = std::min(text.find('x', pos), text.size());
    int64_t d = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + end, d);
    if (ec != std::errc() || ptr != text.data() + end || d <= 0)
      return invalid_argument_error("'" + std::string(text) + "' is not a shape like 1x28x28 or 13");
    shape.push_back(d);
    pos = end + 1;
  }
  return shape;
}

}  // namespace flotilla
