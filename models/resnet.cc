#include "models/resnet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

namespace flotilla {
namespace {

namespace F = torch::nn::functional;

// Hsieh et al. 2020's choice; 2 divides every width used here.
constexpr int64_t kGroups = 2;
// Below this, the stride-2 stages shrink the map to 1x1 before the last stage and padding
// dominates every convolution; not a meaningful use of the architecture.
constexpr int64_t kMinSide = 8;

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

torch::nn::GroupNorm group_norm(int64_t channels) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(kGroups, channels));
}

// relu(gn2(conv2(relu(gn1(conv1(x))))) + shortcut(x)); shortcut is the identity when shapes
// match, else a strided 1x1 convolution and a norm.
class BasicBlock final : public torch::nn::Module {
 public:
  BasicBlock(int64_t in, int64_t out, int64_t stride)
      : conv1_(register_module("conv1", conv(in, out, 3, stride))),
        gn1_(register_module("gn1", group_norm(out))),
        conv2_(register_module("conv2", conv(out, out, 3, 1))),
        gn2_(register_module("gn2", group_norm(out))) {
    if (stride != 1 || in != out) {
      projection_ = conv(in, out, 1, stride);
      projection_norm_ = group_norm(out);
      // A list, so that the names are shortcut.0 / shortcut.1 as PyTorch's nn.Sequential gives.
      register_module("shortcut", torch::nn::ModuleList(projection_, projection_norm_));
    }
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = F::relu(gn1_->forward(conv1_->forward(x)));
    h = gn2_->forward(conv2_->forward(h));
    const at::Tensor skip = projection_ ? projection_norm_->forward(projection_->forward(x)) : x;
    return F::relu(h + skip);
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::GroupNorm gn1_;
  torch::nn::Conv2d conv2_;
  torch::nn::GroupNorm gn2_;
  torch::nn::Conv2d projection_{nullptr};
  torch::nn::GroupNorm projection_norm_{nullptr};
};

class ResNet final : public Model {
 public:
  // widths[i] channels in stage i (stage 0 at stride 1, the others at stride 2), each of
  // `blocks_per_stage` blocks; the stem has widths[0] channels.
  ResNet(const ModelSpec& s, const std::vector<int64_t>& widths, int blocks_per_stage)
      : conv1_(register_module("conv1", conv(s.channels, widths.front(), 3, 1))),
        gn1_(register_module("gn1", group_norm(widths.front()))) {
    int64_t in = widths.front();
    for (size_t stage = 0; stage < widths.size(); ++stage) {
      torch::nn::ModuleList layer;
      for (int b = 0; b < blocks_per_stage; ++b) {
        const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        auto block = std::make_shared<BasicBlock>(in, widths[stage], stride);
        layer->push_back(block);
        blocks_.push_back(std::move(block));
        in = widths[stage];
      }
      register_module("layer" + std::to_string(stage + 1), layer);
    }
    fc_ = register_module("fc", torch::nn::Linear(in, s.num_classes));
    for (auto& p : named_parameters(/*recurse=*/true))
      if (p.value().dim() == 4) torch::nn::init::kaiming_normal_(p.value(), 0.0, torch::kFanOut, torch::kReLU);
  }

  at::Tensor features(const at::Tensor& x) override {
    at::Tensor h = F::relu(gn1_->forward(conv1_->forward(x)));
    for (const auto& block : blocks_) h = block->forward(h);
    return h.mean({2, 3});  // global average pooling
  }
  at::Tensor classify(const at::Tensor& features) override { return fc_->forward(features); }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::GroupNorm gn1_;
  std::vector<std::shared_ptr<BasicBlock>> blocks_;  // in order; owned too by the layerN lists
  torch::nn::Linear fc_{nullptr};
};

StatusOr<std::shared_ptr<Model>> make_resnet(const ModelSpec& spec, const std::vector<int64_t>& widths,
                                             int blocks_per_stage) {
  if (spec.height < kMinSide || spec.width < kMinSide)
    return invalid_argument_error("resnet needs inputs of at least 8x8, got " + std::to_string(spec.height) + "x" +
                                  std::to_string(spec.width));
  return std::shared_ptr<Model>(std::make_shared<ResNet>(spec, widths, blocks_per_stage));
}

}  // namespace

StatusOr<std::shared_ptr<Model>> make_resnet8(const ModelSpec& spec) { return make_resnet(spec, {16, 32, 64}, 1); }

StatusOr<std::shared_ptr<Model>> make_resnet18(const ModelSpec& spec) {
  return make_resnet(spec, {64, 128, 256, 512}, 2);
}

}  // namespace flotilla
