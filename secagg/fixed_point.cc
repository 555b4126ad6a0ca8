#include "secagg/fixed_point.h"

#include <cmath>
#include <string>

namespace flotilla::secagg {

StatusOr<FixedPoint> FixedPoint::for_sum(int clients, double bound) {
  if (clients < 1 || !(bound > 0) || !std::isfinite(bound))
    return invalid_argument_error("fixed-point encoding needs clients >= 1 and a positive bound (got " +
                                  std::to_string(clients) + " and " + std::to_string(bound) + ")");
  // n * bound * 2^f < 2^62  <=>  f < 62 - log2(n * bound)
  const int f = static_cast<int>(std::floor(62.0 - std::log2(static_cast<double>(clients) * bound) - 1e-9));
  if (f < 0)
    return invalid_argument_error("a sum of " + std::to_string(clients) + " values up to " + std::to_string(bound) +
                                  " does not fit 64-bit fixed point");
  return FixedPoint(std::min(f, 52), bound);  // beyond 52 bits a double has no more precision to keep
}

double FixedPoint::max_sum_error(int clients) const { return clients * std::ldexp(0.5, -fraction_bits_); }

StatusOr<std::vector<uint64_t>> FixedPoint::encode(std::span<const double> values) const {
  std::vector<uint64_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v) || std::abs(v) > bound_)
      return invalid_argument_error("element " + std::to_string(i) + " = " + std::to_string(v) +
                                    " is outside the secure aggregation's range +-" + std::to_string(bound_));
    out[i] = static_cast<uint64_t>(static_cast<int64_t>(std::llround(std::ldexp(v, fraction_bits_))));
  }
  return out;
}

std::vector<double> FixedPoint::decode(std::span<const uint64_t> sum) const {
  std::vector<double> out(sum.size());
  for (size_t i = 0; i < sum.size(); ++i)
    out[i] = std::ldexp(static_cast<double>(static_cast<int64_t>(sum[i])), -fraction_bits_);
  return out;
}

}  // namespace flotilla::secagg
