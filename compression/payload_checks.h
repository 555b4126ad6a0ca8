// Checks shared by the codecs' decoders, which read payloads from possibly malicious clients:
// every message names the payload tensor, so an operator can tell what a client sent wrong.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// "[2,3]", for messages.
std::string shape_string(at::IntArrayRef sizes);

// OK when `part` has exactly this dtype and shape; otherwise InvalidArgument naming it.
Status expect_dtype_and_shape(const NamedTensor& part, at::ScalarType dtype, at::IntArrayRef shape);

// Whether every element of a contiguous CPU floating-point tensor is finite. A branch-free scan
// of the exponent bits (vectorised; ~10x faster than at::isfinite(t).all(), which allocates a
// mask): the coordinator runs it over every update it receives.
bool all_finite(const at::Tensor& t);

// OK when every element of floating-point `part` is finite; otherwise names the first bad one.
Status expect_finite(const NamedTensor& part);

}  // namespace flotilla
