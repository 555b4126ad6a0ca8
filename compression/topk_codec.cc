#include "compression/topk_codec.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "compression/payload_checks.h"

namespace flotilla {
namespace {

// int32 indices address tensors of fewer than 2^31 elements, i.e. every tensor of a real model.
at::ScalarType index_dtype(int64_t n) { return n > std::numeric_limits<int32_t>::max() ? at::kLong : at::kInt; }

// Writes the k entries of largest |x| in increasing index order; ties at the k-th magnitude go to
// the lower indices. nth_element finds the k-th magnitude in O(n); two passes then pick the
// entries, already in index order.
template <typename T, typename I>
void select_top_k(const T* x, int64_t n, int64_t k, I* idx, float* val) {
  if (k == 0) return;
  std::vector<T> magnitude(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) magnitude[static_cast<size_t>(i)] = std::fabs(x[i]);
  std::nth_element(magnitude.begin(), magnitude.begin() + (k - 1), magnitude.end(), std::greater<T>());
  const T threshold = magnitude[static_cast<size_t>(k - 1)];
  int64_t ties = k;
  for (int64_t i = 0; i < n; ++i) ties -= std::fabs(x[i]) > threshold ? 1 : 0;
  int64_t j = 0;
  for (int64_t i = 0; i < n && j < k; ++i) {
    const T a = std::fabs(x[i]);
    if (a > threshold || (a == threshold && ties-- > 0)) {
      idx[j] = static_cast<I>(i);
      val[j] = static_cast<float>(x[i]);
      ++j;
    }
  }
}

template <typename T>
void select_top_k(const T* x, int64_t n, int64_t k, at::Tensor& idx, float* val) {
  if (idx.scalar_type() == at::kInt) {
    select_top_k(x, n, k, idx.data_ptr<int32_t>(), val);
  } else {
    select_top_k(x, n, k, idx.data_ptr<int64_t>(), val);
  }
}

// Indices within [0, n) and strictly increasing: no entry is written twice, none out of bounds.
template <typename I>
Status check_indices(const NamedTensor& part, const I* idx, int64_t k, int64_t n) {
  int64_t previous = -1;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t i = idx[j];
    if (i < 0 || i >= n)
      return invalid_argument_error("tensor '" + part.name + "' has index " + std::to_string(i) + " at position " +
                                    std::to_string(j) + ", outside [0, " + std::to_string(n) + ")");
    if (i <= previous)
      return invalid_argument_error("tensor '" + part.name + "' has index " + std::to_string(i) + " at position " +
                                    std::to_string(j) + " after index " + std::to_string(previous) +
                                    "; indices must be strictly increasing");
    previous = i;
  }
  return Status();
}

template <typename I>
void scatter(const I* idx, const float* val, int64_t k, float* out) {
  for (int64_t j = 0; j < k; ++j) out[idx[j]] = val[j];
}

}  // namespace

TopKCodec::TopKCodec(TopKOptions options) : options_(options) {
  FLOTILLA_CHECK(options.ratio > 0 && options.ratio <= 1) << "topk ratio " << options.ratio;
}

int64_t TopKCodec::kept(int64_t n) const {
  const auto k = static_cast<int64_t>(std::llround(options_.ratio * static_cast<double>(n)));
  return std::min(n, std::max<int64_t>(1, k));
}

std::vector<std::string> TopKCodec::payload_names(const std::string& name) const {
  return {name + "#idx", name + "#val"};
}

Status TopKCodec::encode_tensor(const std::string& name, const at::Tensor& x, uint64_t, ModelState& payload) const {
  const int64_t n = x.numel();
  const int64_t k = kept(n);
  at::Tensor idx = at::empty({k}, index_dtype(n));
  at::Tensor val = at::empty({k}, at::kFloat);
  if (x.scalar_type() == at::kDouble) {
    select_top_k(x.data_ptr<double>(), n, k, idx, val.data_ptr<float>());
  } else {
    const at::Tensor f = x.to(at::kFloat).contiguous();  // exact for float16 and bfloat16
    select_top_k(f.data_ptr<float>(), n, k, idx, val.data_ptr<float>());
  }
  const auto names = payload_names(name);
  payload.add(names[0], std::move(idx));
  payload.add(names[1], std::move(val));
  return Status();
}

StatusOr<at::Tensor> TopKCodec::decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const {
  const int64_t n = like.numel();
  const int64_t k = kept(n);
  const NamedTensor& idx_part = parts[0];
  const NamedTensor& val_part = parts[1];
  for (const NamedTensor* part : {&idx_part, &val_part}) {
    const at::Tensor& t = part->tensor;
    if (t.dim() == 1 && t.numel() != k)
      return invalid_argument_error("tensor '" + part->name + "' has " + std::to_string(t.numel()) +
                                    " entries, expected k = " + std::to_string(k) + " (ratio " +
                                    std::to_string(options_.ratio) + " of " + std::to_string(n) + " elements)");
  }
  RETURN_IF_ERROR(expect_dtype_and_shape(idx_part, index_dtype(n), {k}));
  RETURN_IF_ERROR(expect_dtype_and_shape(val_part, at::kFloat, {k}));
  RETURN_IF_ERROR(expect_finite(val_part));
  const float* val = val_part.tensor.data_ptr<float>();
  at::Tensor out = at::zeros({n}, at::kFloat);
  if (idx_part.tensor.scalar_type() == at::kInt) {
    const int32_t* idx = idx_part.tensor.data_ptr<int32_t>();
    RETURN_IF_ERROR(check_indices(idx_part, idx, k, n));
    scatter(idx, val, k, out.data_ptr<float>());
  } else {
    const int64_t* idx = idx_part.tensor.data_ptr<int64_t>();
    RETURN_IF_ERROR(check_indices(idx_part, idx, k, n));
    scatter(idx, val, k, out.data_ptr<float>());
  }
  return out.reshape(like.sizes());
}

CodecRegistry::Entry TopKCodec::registry_entry() {
  return {"topk",
          "top-k sparsification: the largest-magnitude share of each tensor as int32 index + float32 value, "
          "with error feedback",
          {{"ratio", "0.01", "share of each tensor's entries sent, in (0, 1]; at least one entry per tensor"},
           {"error_feedback", "1", "1: the client keeps what it did not send and adds it to its next update"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<UpdateCodec>> {
            TopKOptions options;
            ASSIGN_OR_RETURN(options.ratio, o.get_double("ratio"));
            ASSIGN_OR_RETURN(options.error_feedback, o.get_bool("error_feedback"));
            if (!(options.ratio > 0 && options.ratio <= 1))
              return invalid_argument_error("option 'ratio' = " + o.values().at("ratio") + " is not in (0, 1]");
            return std::unique_ptr<UpdateCodec>(new TopKCodec(options));
          }};
}

}  // namespace flotilla
