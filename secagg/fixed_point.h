// Fixed-point encoding of real vectors into the ring of 64-bit integers (arithmetic mod 2^64), in
// which secure aggregation's masks cancel. A value v with |v| <= bound becomes round(v * 2^f) as a
// two's-complement word; the masked words of n clients sum mod 2^64, and the unmasked sum decodes
// back exactly as long as it cannot wrap: n * bound * 2^f < 2^62 (a bit of headroom below 2^63).
// for_sum() picks the largest f that guarantees it, so the quantisation error of the decoded sum
// is at most n / 2^(f+1) per element (each client's value rounded to the nearest 2^-f).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace flotilla::secagg {

class FixedPoint {
 public:
  // The encoding for sums of `clients` vectors whose elements are within [-bound, bound]:
  // InvalidArgument when no fraction bits fit (bound * clients >= 2^62) or the inputs are not positive.
  static StatusOr<FixedPoint> for_sum(int clients, double bound);
  explicit FixedPoint(int fraction_bits, double bound) : fraction_bits_(fraction_bits), bound_(bound) {}

  int fraction_bits() const { return fraction_bits_; }
  double bound() const { return bound_; }
  // The largest error of a decoded sum of `clients` encodings, per element.
  double max_sum_error(int clients) const;

  // InvalidArgument naming the first element that is not finite or is beyond the bound.
  StatusOr<std::vector<uint64_t>> encode(std::span<const double> values) const;
  // A sum of encodings (mod 2^64) as reals.
  std::vector<double> decode(std::span<const uint64_t> sum) const;

 private:
  int fraction_bits_;
  double bound_;
};

}  // namespace flotilla::secagg
