// The FedAvg paper's "2NN": flatten, two hidden layers of 200 units with ReLU, output layer.
#pragma once

#include "core/status.h"
#include "models/model.h"

namespace flotilla {

StatusOr<std::shared_ptr<Model>> make_mlp(const ModelSpec& spec);

}  // namespace flotilla
