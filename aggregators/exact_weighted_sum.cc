#include "aggregators/exact_weighted_sum.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>

// This file is compiled with -ffp-contract=off (aggregators/CMakeLists.txt): a fused
// multiply-add in place of a product and a sum would break the error-free transformations.

namespace flotilla {
namespace {

constexpr int64_t kMaxExactWeight = int64_t{1} << 53;  // integers a double holds exactly
constexpr int64_t kGrain = 1 << 14;                    // elements per parallel chunk

// Knuth's TwoSum: s + e == a + b exactly, s = fl(a + b).
inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// (hi, lo) += v; returns false when the pair could not hold the exact sum.
inline bool add_to_pair(double v, double& hi, double& lo) {
  double s, e, t, f;
  two_sum(hi, v, s, e);
  two_sum(lo, e, t, f);
  two_sum(s, t, hi, lo);  // renormalise: hi = fl(S), lo = S - hi
  return f == 0.0;
}

// +0.0 and nothing else: what a missing lo block holds (a -0.0 lo must be stored to keep its bit).
inline bool is_positive_zero(double x) { return x == 0.0 && !std::signbit(x); }

// Adds weight * x[i] to every element's pair, block by block so that each lo block is only ever
// touched (and allocated) by the thread that owns it.
template <typename T>
int64_t add_weighted(const T* x, int64_t n, double weight, double* hi,
                     std::vector<std::unique_ptr<double[]>>& lo_blocks) {
  constexpr int64_t kBlock = ExactWeightedSum::kCorrectionBlock;
  std::atomic<int64_t> inexact{0};
  at::parallel_for(0, static_cast<int64_t>(lo_blocks.size()), kGrain / kBlock, [&](int64_t first, int64_t last) {
    int64_t lost = 0;
    for (int64_t b = first; b < last; ++b) {
      double* lo_block = lo_blocks[b].get();
      const int64_t end = std::min(n, (b + 1) * kBlock);
      for (int64_t i = b * kBlock; i < end; ++i) {
        const double v = static_cast<double>(x[i]);
        const double p = weight * v;
        const double p_error = std::fma(weight, v, -p);  // exact: the product's rounding error
        double lo = lo_block ? lo_block[i - b * kBlock] : 0.0;
        bool exact = add_to_pair(p, hi[i], lo);
        if (p_error != 0.0) exact = add_to_pair(p_error, hi[i], lo) && exact;
        lost += exact ? 0 : 1;
        if (!lo_block && !is_positive_zero(lo)) {
          lo_blocks[b] = std::make_unique<double[]>(kBlock);  // value-initialised: +0.0
          lo_block = lo_blocks[b].get();
        }
        if (lo_block) lo_block[i - b * kBlock] = lo;
      }
    }
    if (lost) inexact += lost;
  });
  return inexact.load();
}

// The mean in the tensor's dtype: floating types rounded, integers (counters) to the nearest
// (ties to even), bool the weighted majority.
template <typename T>
T round_to(double m) {
  if constexpr (std::is_same_v<T, bool>) {
    return m >= 0.5;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(std::nearbyint(m));
  } else {
    return static_cast<T>(m);
  }
}

}  // namespace

ExactWeightedSum::ExactWeightedSum(const ModelState& layout) : layout_(layout) {
  for (const auto& e : layout.entries()) {
    TensorSum sum;
    sum.hi = at::zeros(e.tensor.sizes(), at::TensorOptions().dtype(at::kDouble));
    sum.lo_blocks.resize(static_cast<size_t>((e.tensor.numel() + kCorrectionBlock - 1) / kCorrectionBlock));
    sums_.push_back(std::move(sum));
  }
}

int64_t ExactWeightedSum::correction_bytes() const {
  int64_t blocks = 0;
  for (const auto& sum : sums_)
    for (const auto& block : sum.lo_blocks) blocks += block ? 1 : 0;
  return blocks * kCorrectionBlock * static_cast<int64_t>(sizeof(double));
}

Status ExactWeightedSum::add(const ModelState& state, int64_t weight) {
  if (weight < 0 || weight >= kMaxExactWeight)
    return invalid_argument_error("weight " + std::to_string(weight) + " is outside [0, 2^53)");
  RETURN_IF_ERROR(layout_.check_same_layout(state));
  const double w = static_cast<double>(weight);
  for (size_t i = 0; i < state.size(); ++i) {
    const at::Tensor x = state[i].tensor.cpu().contiguous();
    TensorSum& sum = sums_[i];
    double* hi = sum.hi.data_ptr<double>();
    AT_DISPATCH_ALL_TYPES_AND3(at::kHalf, at::kBFloat16, at::kBool, x.scalar_type(), "exact_weighted_sum", [&] {
      inexact_ += add_weighted(x.data_ptr<scalar_t>(), x.numel(), w, hi, sum.lo_blocks);
    });
  }
  total_weight_ += weight;
  ++count_;
  return Status();
}

StatusOr<ModelState> ExactWeightedSum::mean() const {
  if (count_ == 0) return invalid_argument_error("no client updates to average");
  if (total_weight_ <= 0) return invalid_argument_error("all client updates have zero samples: nothing to weight by");
  const double total = static_cast<double>(total_weight_);
  ModelState out;
  for (size_t i = 0; i < layout_.size(); ++i) {
    const at::Tensor& like = layout_[i].tensor;
    at::Tensor value = at::empty(like.sizes(), at::TensorOptions().dtype(like.scalar_type()));
    const TensorSum& sum = sums_[i];
    const double* hi = sum.hi.data_ptr<double>();
    AT_DISPATCH_ALL_TYPES_AND3(at::kHalf, at::kBFloat16, at::kBool, value.scalar_type(), "exact_weighted_mean", [&] {
      scalar_t* out_data = value.data_ptr<scalar_t>();
      at::parallel_for(0, value.numel(), kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          const double* lo_block = sum.lo_blocks[j / kCorrectionBlock].get();
          const double lo = lo_block ? lo_block[j % kCorrectionBlock] : 0.0;
          // A function of the exact sum alone (hi and lo are), so as order-independent as it.
          const double m = hi[j] / total + lo / total;
          out_data[j] = round_to<scalar_t>(m);
        }
      });
    });
    out.add(layout_[i].name, std::move(value));
  }
  return out;
}

}  // namespace flotilla
