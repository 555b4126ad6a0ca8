#include "training/device.h"

#include <torch/cuda.h>

namespace flotilla {

StatusOr<c10::Device> resolve_device(const std::string& flag) {
  if (flag == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (flag == "cpu") return c10::Device(c10::kCPU);
  if (flag.rfind("cuda", 0) == 0) {
    int index = 0;
    if (flag.size() > 4) {
      if (flag[4] != ':' || flag.size() == 5 || flag.find_first_not_of("0123456789", 5) != std::string::npos)
        return invalid_argument_error("--device '" + flag + "' is not of the form cuda:N");
      index = std::stoi(flag.substr(5));
    }
    if (!torch::cuda::is_available())
      return failed_precondition_error("--device " + flag + " asked for CUDA, but LibTorch sees no GPU");
    if (index >= static_cast<int>(torch::cuda::device_count()))
      return invalid_argument_error("--device " + flag + ": only " + std::to_string(torch::cuda::device_count()) +
                                    " GPU(s) visible");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return invalid_argument_error("--device '" + flag + "' must be auto, cpu, cuda or cuda:N");
}

}  // namespace flotilla
