// The CNN of the FedAvg paper (McMahan et al. 2017): two 5x5 convolutions of 32 and 64 channels
// (padding 2), each followed by ReLU and 2x2 max pooling, a 512-unit dense layer with ReLU, and
// the output layer (softmax lives in the loss). 1,663,370 parameters on 1x28x28.
#pragma once

#include "core/status.h"
#include "models/model.h"

namespace flotilla {

StatusOr<std::shared_ptr<Model>> make_mnist_cnn(const ModelSpec& spec);

}  // namespace flotilla
