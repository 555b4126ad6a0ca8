// A site's own data as PyTorch users write it in one line:
//   torch.save({"x": features_or_images, "y": labels}, "train.pt")
// in the zip format that torch.save has written by default since torch 1.6 (a zip archive holding
// a pickle of the dict and one record per tensor storage). Functions are thread-compatible.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

// Reads a dict with keys "x", "y" and, optionally, "num_classes" (an int or a 0-dim integer
// tensor); other keys are ignored.
//   x: uint8 (kept uint8, as the image readers keep pixels) or float16/bfloat16/float32/float64
//      (converted to float32), shape [N, ...] with rank >= 2: [N, F] tabular, [N, C, H, W] images;
//      a uint8 [N, H, W] becomes [N, 1, H, W] (a grey image stack). Float x must be finite.
//   y: any integer dtype, shape [N], each >= 0; returned as int64 [N].
// The result's num_classes is "num_classes" when given, else max(y) + 1 but at least 2; its
// mean/std are empty (a federation agrees on normalisation, not each file).
// Errors name the file and the problem: NotFound when it is missing; DataLoss when it is not a
// torch.save zip file, holds something other than a dict, or lacks "x" or "y" (naming the keys it
// has); InvalidArgument for a wrong dtype or rank, x and y counts that differ, no samples, a
// label < 0 or >= num_classes (naming the sample), or a NaN/inf in x (naming the first such
// sample). Nothing throws.
StatusOr<TensorDataset> read_tensor_file(const std::string& path);

// read_tensor_file without the file: `bytes` is a whole .pt file and `name` stands for its path in
// messages. Same errors (but no NotFound). Lets the parser be tested and fuzzed in memory.
StatusOr<TensorDataset> parse_tensor_file(const std::vector<char>& bytes, const std::string& name);

// Writes {"x": x, "y": y} as torch.save does, so that Python's torch.load and read_tensor_file
// both read it; with num_classes > 0 the dict also holds "num_classes" (an int), which readers
// take over max label + 1 (so that clients whose data lack the top classes still agree). Atomic:
// writes a temporary file in the same folder and renames it over `path`, so a reader never sees
// half a file. For tests and tools: the writer checks only that both tensors are defined (the
// reader, not the writer, enforces the contract above, so tests can write bad files). Unavailable
// when the file cannot be written.
Status write_tensor_file(const std::string& path, const at::Tensor& x, const at::Tensor& y, int64_t num_classes = 0);

}  // namespace flotilla
