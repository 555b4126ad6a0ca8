// Whether a model fits a dataset, checked once before training (a user-supplied TorchScript
// model's input and output shapes are known only by running it).
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"

namespace flotilla {

class Model;

// Runs `model` once, in eval mode and without gradients, on zeros of shape [2, sample_shape...]
// (float32, on the device of the model's first tensor), then restores its train/eval mode. OK
// when the output is a floating-point [2, K] tensor with K >= num_classes; otherwise
// InvalidArgument naming the input shape and what went wrong (torch's message, or the output's
// shape), or when no parameter requires a gradient (nothing to train). Eval mode, so that
// batch-norm statistics do not move.
Status check_model_input(Model& model, std::span<const int64_t> sample_shape, int64_t num_classes);

}  // namespace flotilla
