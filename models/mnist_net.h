// The small MNIST CNN of PyTorch's distributed tutorial, as the FedAvg peer
// (../shared/peers/pytorch_mpi_fedavg.py, MnistNet) uses it: conv 1->10 (5x5), pool, conv 10->20
// (5x5), pool, 320 -> 50 -> 10. 21,840 parameters; 1x28x28 inputs only. Here so that benchmarks
// against the peer train the same model.
#pragma once

#include "core/status.h"
#include "models/model.h"

namespace flotilla {

StatusOr<std::shared_ptr<Model>> make_mnist_net(const ModelSpec& spec);

}  // namespace flotilla
