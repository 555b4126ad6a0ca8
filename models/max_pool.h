// 2x2 max pooling with stride 2 (no padding, floor mode): at::max_pool2d(x, 2) with the same
// output and the same gradient, bit for bit, and a CPU kernel of its own.
//
// Why: Debian's LibTorch 1.13 pools contiguous NCHW float input at about 5 ns per input element on
// one thread (1 ms for one 32-image batch of mnist_net's first layer, a third of its training
// step; 4.5 ms of mnist_cnn's). This kernel scans each window in ATen's order with ATen's rule
// (row by row, a value wins if it is greater than the best so far or NaN, starting from -inf at
// the first element), so ties and NaNs pick the same element, and it keeps the winner's position
// in one byte per output instead of an int64 index. The backward pass adds each output's gradient
// into a zeroed input gradient at that position, as ATen's does.
//
// Other devices, dtypes and ranks, and inputs smaller than one window, go to at::max_pool2d.
// The gradient is not differentiable again (create_graph): that raises an error naming this op.
#pragma once

#include <ATen/core/Tensor.h>

namespace flotilla {

// x: [N, C, H, W]; returns [N, C, H / 2, W / 2].
at::Tensor max_pool2x2(const at::Tensor& x);

}  // namespace flotilla
