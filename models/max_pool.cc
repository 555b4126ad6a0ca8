#include "models/max_pool.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>
#include <cstring>

namespace flotilla {
namespace {

// Planes (one image's one channel) per parallel task: small batches stay on one thread.
constexpr int64_t kPlanesPerTask = 16;

bool has_fast_kernel(const at::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 && x.size(2) >= 2 && x.size(3) >= 2 &&
         x.layout() == at::kStrided;
}

// Four lanes of floats and of their comparison masks (GCC/Clang vector extensions: SSE2 on x86-64,
// NEON on arm64, plain code elsewhere): four windows are pooled at once.
constexpr int kLanes = 4;
typedef float Floats __attribute__((vector_size(4 * kLanes)));
typedef int32_t Masks __attribute__((vector_size(4 * kLanes)));

// ATen's rule for the next element of a window: it wins if greater than the best so far, or NaN.
// Selects, not branches: on real activations which element wins is a coin toss.
inline void consider(Floats value, int32_t k, Floats& best, Masks& winner) {
  const Masks take = (value > best) | (value != value);
  best = take ? value : best;
  winner = take ? Masks{} + k : winner;
}

// The left and right elements of four consecutive windows in one input row.
inline void load_pairs(const float* row, Floats& left, Floats& right) {
  Floats a, b;
  std::memcpy(&a, row, sizeof a);
  std::memcpy(&b, row + kLanes, sizeof b);
#if defined(__clang__)
  left = __builtin_shufflevector(a, b, 0, 2, 4, 6);
  right = __builtin_shufflevector(a, b, 1, 3, 5, 7);
#else  // GCC before 12 has only its own spelling
  left = __builtin_shuffle(a, b, Masks{0, 2, 4, 6});
  right = __builtin_shuffle(a, b, Masks{1, 3, 5, 7});
#endif
}

// Pools four windows of input rows `top` and `bottom`. ATen's scan starts from -inf, which the
// first element always replaces or equals, so the first element starts as the best.
template <bool kKeepWinners>
inline void pool_windows(const float* top, const float* bottom, float* out, uint8_t* winners) {
  Floats top_left, top_right, bottom_left, bottom_right;
  load_pairs(top, top_left, top_right);
  load_pairs(bottom, bottom_left, bottom_right);
  Floats best = top_left;
  Masks winner{};
  consider(top_right, 1, best, winner);
  consider(bottom_left, 2, best, winner);
  consider(bottom_right, 3, best, winner);
  std::memcpy(out, &best, sizeof best);
  if constexpr (kKeepWinners)
    for (int i = 0; i < kLanes; ++i) winners[i] = static_cast<uint8_t>(winner[i]);
}

// Pools input rows `top` and `bottom` into one output row of `out_w` elements. The last one to three
// windows go through the same lanes from a zero-padded copy.
template <bool kKeepWinners>
void pool_row(const float* top, const float* bottom, int64_t out_w, float* out, uint8_t* winners) {
  int64_t ow = 0;
  for (; ow + kLanes <= out_w; ow += kLanes)
    pool_windows<kKeepWinners>(top + 2 * ow, bottom + 2 * ow, out + ow, kKeepWinners ? winners + ow : nullptr);
  if (const int64_t rest = out_w - ow; rest > 0) {
    float top_rest[2 * kLanes] = {}, bottom_rest[2 * kLanes] = {}, out_rest[kLanes];
    uint8_t winners_rest[kLanes];
    std::memcpy(top_rest, top + 2 * ow, 2 * rest * sizeof(float));
    std::memcpy(bottom_rest, bottom + 2 * ow, 2 * rest * sizeof(float));
    pool_windows<kKeepWinners>(top_rest, bottom_rest, out_rest, winners_rest);
    std::memcpy(out + ow, out_rest, rest * sizeof(float));
    if constexpr (kKeepWinners) std::memcpy(winners + ow, winners_rest, rest);
  }
}

// Pools contiguous NCHW `x`; writes the winner's position in its window (0 top left, 1 top right,
// 2 bottom left, 3 bottom right) into `which` when it is not null.
at::Tensor pool_forward(const at::Tensor& input, at::Tensor* which) {
  const at::Tensor x = input.contiguous();
  const int64_t planes = x.size(0) * x.size(1), height = x.size(2), width = x.size(3);
  const int64_t out_h = height / 2, out_w = width / 2;
  at::Tensor out = at::empty({x.size(0), x.size(1), out_h, out_w}, x.options());
  if (which) *which = at::empty(out.sizes(), x.options().dtype(at::kByte));
  const float* in = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  uint8_t* pos = which ? which->data_ptr<uint8_t>() : nullptr;
  at::parallel_for(0, planes, kPlanesPerTask, [=](int64_t begin, int64_t end) {
    for (int64_t r = begin * out_h; r < end * out_h; ++r) {  // output rows of planes [begin, end)
      const float* top = in + (r / out_h * height + r % out_h * 2) * width;
      if (pos)
        pool_row<true>(top, top + width, out_w, dst + r * out_w, pos + r * out_w);
      else
        pool_row<false>(top, top + width, out_w, dst + r * out_w, nullptr);
    }
  });
  return out;
}

at::Tensor pool_backward(const at::Tensor& grad_output, const at::Tensor& which, int64_t height, int64_t width) {
  const at::Tensor go = grad_output.contiguous();
  const int64_t out_h = which.size(2), out_w = which.size(3), planes = which.size(0) * which.size(1);
  at::Tensor grad_input = at::zeros({which.size(0), which.size(1), height, width}, go.options());
  const float* src = go.data_ptr<float>();
  const uint8_t* pos = which.data_ptr<uint8_t>();
  float* dst = grad_input.data_ptr<float>();
  at::parallel_for(0, planes, kPlanesPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const int64_t row = (p * out_h + oh) * out_w;
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const uint8_t k = pos[row + ow];
          // += on zeros, as ATen's kernel does, so that a -0 gradient lands as +0 there too.
          dst[(p * height + 2 * oh + k / 2) * width + 2 * ow + k % 2] += src[row + ow];
        }
      }
    }
  });
  return grad_input;
}

class MaxPool2x2 : public torch::autograd::Function<MaxPool2x2> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    at::Tensor which;
    at::Tensor out = pool_forward(x, &which);
    ctx->saved_data["which"] = which;
    ctx->saved_data["height"] = x.size(2);
    ctx->saved_data["width"] = x.size(3);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "flotilla::max_pool2x2 has no second derivative (backward with create_graph=true)");
    return {pool_backward(grad_outputs[0], ctx->saved_data["which"].toTensor(), ctx->saved_data["height"].toInt(),
                          ctx->saved_data["width"].toInt())};
  }
};

}  // namespace

at::Tensor max_pool2x2(const at::Tensor& x) {
  if (!has_fast_kernel(x)) return at::max_pool2d(x, {2, 2}, {2, 2});
  if (at::GradMode::is_enabled() && x.requires_grad()) return MaxPool2x2::apply(x);
  return pool_forward(x, nullptr);
}

}  // namespace flotilla
