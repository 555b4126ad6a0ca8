// A fully connected network whose size the user picks, for runs with large models (1 GB and
// more): flatten, `layers` hidden layers of `hidden` units with ReLU, output layer. PyTorch's
// default Linear initialisation. Its name carries its options: "wide_mlp" (hidden 4096, layers 2)
// or e.g. "wide_mlp:hidden=16000" or "wide_mlp:hidden=8192,layers=4"; the name travels to the
// clients as it is, so they build the same model.
//
// Parameters: in*h + h + (layers-1)*(h*h + h) + h*classes + classes, float32 (4 bytes each).
// On 1x28x28 with 10 classes and 2 layers: hidden 7,600 is 255 MB, 16,000 is 1.07 GB, 23,200 is
// 2.2 GB with a 2.15 GB (> 2 GiB) fc2.weight.
#pragma once

#include "core/options.h"
#include "core/status.h"
#include "models/model.h"

namespace flotilla {

// "hidden" (units per hidden layer, 1 to 2^20) and "layers" (hidden layers, 1 to 64).
std::vector<OptionSpec> wide_mlp_options();

// `options` has passed apply_specs(wide_mlp_options()). InvalidArgument for values out of range.
StatusOr<std::shared_ptr<Model>> make_wide_mlp(const ModelSpec& spec, const Options& options);

}  // namespace flotilla
