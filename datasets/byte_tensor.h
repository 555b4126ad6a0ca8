// Turns a file's bytes into a uint8 tensor without copying them: the tensor takes ownership of the
// buffer, so a 150 MB CIFAR-10 batch or MNIST image file is held once, not twice.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace flotilla {

// A contiguous uint8 CPU tensor of `sizes` over bytes[offset, offset + prod(sizes)); it owns `bytes`.
// The range must lie inside `bytes` (checked: callers validate file sizes first).
at::Tensor byte_tensor(std::string bytes, int64_t offset, at::IntArrayRef sizes);

}  // namespace flotilla
