// CIFAR-style residual networks (He et al. 2016, "Deep Residual Learning", section 4.2): a 3x3
// stem convolution, stages of basic blocks (two 3x3 convolutions and a skip connection; a 1x1
// projection on the skip where the stage changes width or stride), global average pooling and
// one linear layer. No max-pool stem, so 32x32 inputs keep their resolution in the first stage.
//
// GroupNorm with 2 groups replaces BatchNorm after every convolution: BatchNorm's running
// statistics are averaged across clients whose data differ, which breaks under non-IID splits,
// and GroupNorm normalises each sample on its own (Hsieh et al. 2020, "The Non-IID Data Quagmire",
// who use 2 groups). The model therefore has no buffers: its state is its parameters.
// Convolutions have no bias (the norm's shift replaces it) and are Kaiming-normal initialised
// (fan-out, ReLU gain) as in torchvision; norms start at scale 1, shift 0; the linear layer keeps
// PyTorch's default initialisation.
//
// State names follow PyTorch: conv1.weight, gn1.weight, layer2.0.conv1.weight,
// layer2.0.shortcut.0.weight (the projection conv), layer2.0.shortcut.1.weight (its norm),
// fc.weight, ...
#pragma once

#include "core/status.h"
#include "models/model.h"

namespace flotilla {

// resnet8: stem 16 channels, three stages of one block each with 16 / 32 / 64 channels at
// strides 1 / 2 / 2, then 64 -> classes. 78,042 parameters on 3x32x32 with 10 classes (77,754
// on 1x28x28). Any channel count; height and width >= 8 (InvalidArgument otherwise).
StatusOr<std::shared_ptr<Model>> make_resnet8(const ModelSpec& spec);

// resnet18 (the CIFAR variant common in FL papers): stem 64 channels, four stages of two blocks
// each with 64 / 128 / 256 / 512 channels at strides 1 / 2 / 2 / 2, then 512 -> classes.
// 11,173,962 parameters on 3x32x32 with 10 classes. Height and width >= 8.
StatusOr<std::shared_ptr<Model>> make_resnet18(const ModelSpec& spec);

}  // namespace flotilla
