#include "compression/payload_checks.h"

#include <ATen/ATen.h>

#include <cstring>
#include <sstream>

namespace flotilla {
namespace {

// Inf and NaN are the values whose exponent bits are all ones.
template <typename Bits>
bool exponents_below_max(const void* data, int64_t n, Bits exponent) {
  const auto* p = static_cast<const unsigned char*>(data);
  Bits any_max = 0;
  for (int64_t i = 0; i < n; ++i) {
    Bits bits;
    std::memcpy(&bits, p + i * static_cast<int64_t>(sizeof(Bits)), sizeof(Bits));
    any_max |= static_cast<Bits>((bits & exponent) == exponent);
  }
  return any_max == 0;
}

}  // namespace

bool all_finite(const at::Tensor& t) {
  if (!t.is_cpu()) return at::isfinite(t).all().item<bool>();
  const at::Tensor c = t.contiguous();
  switch (c.scalar_type()) {
    case at::kFloat:
      return exponents_below_max<uint32_t>(c.data_ptr(), c.numel(), 0x7F800000u);
    case at::kDouble:
      return exponents_below_max<uint64_t>(c.data_ptr(), c.numel(), 0x7FF0000000000000ull);
    case at::kHalf:
      return exponents_below_max<uint16_t>(c.data_ptr(), c.numel(), 0x7C00u);
    case at::kBFloat16:
      return exponents_below_max<uint16_t>(c.data_ptr(), c.numel(), 0x7F80u);
    default:
      return at::isfinite(c).all().item<bool>();
  }
}

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < sizes.size(); ++i) os << (i ? "," : "") << sizes[i];
  os << "]";
  return os.str();
}

Status expect_dtype_and_shape(const NamedTensor& part, at::ScalarType dtype, at::IntArrayRef shape) {
  if (part.tensor.scalar_type() != dtype)
    return invalid_argument_error("tensor '" + part.name + "' has dtype " + c10::toString(part.tensor.scalar_type()) +
                                  ", expected " + c10::toString(dtype));
  if (part.tensor.sizes() != shape)
    return invalid_argument_error("tensor '" + part.name + "' has shape " + shape_string(part.tensor.sizes()) +
                                  ", expected " + shape_string(shape));
  return Status();
}

Status expect_finite(const NamedTensor& part) {
  if (all_finite(part.tensor)) return Status();
  const at::Tensor bad = at::isfinite(part.tensor).logical_not_().reshape({-1});
  if (!bad.any().item<bool>()) return Status();
  const int64_t first = bad.nonzero()[0][0].item<int64_t>();
  return invalid_argument_error("tensor '" + part.name + "' has a non-finite value (" +
                                std::to_string(part.tensor.reshape({-1})[first].item<double>()) + ") at element " +
                                std::to_string(first));
}

}  // namespace flotilla
