// Picks the compute device from a flag: "auto" (CUDA when LibTorch sees a GPU, else CPU), "cpu",
// "cuda" or "cuda:N".
#pragma once

#include <c10/core/Device.h>

#include <string>

#include "core/status.h"

namespace flotilla {

StatusOr<c10::Device> resolve_device(const std::string& flag);

}  // namespace flotilla
