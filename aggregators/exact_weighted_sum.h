// ExactWeightedSum: sum_k n_k * w_k over client states, kept exactly, so that the result does not
// depend on the order the states were added in. This is what lets the coordinator fold each
// update in as it arrives (O(model) memory, whatever the number of clients) and still produce
// bit-for-bit the model that aggregating the same updates all at once produces.
//
// How: each element's running sum is an unevaluated pair of doubles (hi, lo) with hi = fl(S) and
// lo = S - hi exactly. A float32 value times an integer weight below 2^29 is an exact double; for
// wider values the product's rounding error is recovered with an FMA. Adding a product uses
// error-free transformations (TwoSum), so the pair stays the exact sum as long as the sum's
// significant bits fit in two doubles: always when one coordinate's values across clients lie
// within about 2^50 of each other in magnitude, and often beyond. Since (hi, lo) is then a function of
// the exact sum alone, any order of additions gives the same pair, and the mean computed from it
// is the same bits. When a sum does not fit, the element is counted in inexact_elements() (it is
// then only as good as a float64 sum), so the guarantee is checked on every round, not assumed.
//
// Memory: 8 bytes per element of the model (hi, dense), plus lo where it is needed, independent of
// the number of clients. lo is kept in blocks of kCorrectionBlock elements, allocated the first
// time one of their elements' sum does not fit in hi alone; a missing block reads as +0, so the
// pair, and every bit of the result, is what a dense lo would give. With float32 values times
// sample counts (37-53 significant bits), hi alone holds the exact sum unless one coordinate's
// values across clients lie about 2^10-2^20 apart in magnitude: in trained models, rare elements
// near zero, so few blocks are ever allocated (correction_bytes() says how many bytes were).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

class ExactWeightedSum {
 public:
  // Sums states of `layout`'s names, dtypes and shapes (values are ignored).
  explicit ExactWeightedSum(const ModelState& layout);

  // Adds weight * state. `state` must have the layout (InvalidArgument naming the first
  // difference, and nothing is added); `weight` must be >= 0 and below 2^53.
  Status add(const ModelState& state, int64_t weight);

  int64_t total_weight() const { return total_weight_; }
  int64_t count() const { return count_; }
  // Elements whose sum lost exactness (see above); 0 means the result is order-independent.
  int64_t inexact_elements() const { return inexact_; }
  // Bytes held for lo blocks (see above): 0 while every sum fits in a double.
  int64_t correction_bytes() const;

  static constexpr int64_t kCorrectionBlock = 512;  // elements per lo block: 4 KB, one page

  // sum / total_weight, in each tensor's dtype: floating tensors rounded from the exact sum,
  // integer tensors (counters) rounded to the nearest integer, bool tensors the weighted majority.
  // InvalidArgument when nothing was added or every weight was zero.
  StatusOr<ModelState> mean() const;

 private:
  ModelState layout_;
  // Per tensor: hi (float64, dense) and its lo blocks (null: every lo in the block is +0).
  struct TensorSum {
    at::Tensor hi;
    std::vector<std::unique_ptr<double[]>> lo_blocks;
  };
  std::vector<TensorSum> sums_;
  int64_t total_weight_ = 0;
  int64_t count_ = 0;
  int64_t inexact_ = 0;
};

}  // namespace flotilla
