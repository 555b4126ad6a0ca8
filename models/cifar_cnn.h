// A LeNet-style CNN for 32x32 colour images, as the FedAvg peer's CifarNet: conv 3->6 (5x5),
// pool, conv 6->16 (5x5), pool, 400 -> 120 -> 84 -> classes. 62,006 parameters on 3x32x32.
#pragma once

#include "core/status.h"
#include "models/model.h"

namespace flotilla {

StatusOr<std::shared_ptr<Model>> make_cifar_cnn(const ModelSpec& spec);

}  // namespace flotilla
