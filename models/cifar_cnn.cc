#include "models/cifar_cnn.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "models/max_pool.h"

namespace flotilla {
namespace {

namespace F = torch::nn::functional;

class CifarCnn final : public Model {
 public:
  CifarCnn(const ModelSpec& s, int64_t flat)
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.channels, 6, 5)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)))),
        fc1_(register_module("fc1", torch::nn::Linear(flat, 120))),
        fc2_(register_module("fc2", torch::nn::Linear(120, 84))),
        fc3_(register_module("fc3", torch::nn::Linear(84, s.num_classes))) {}

  at::Tensor features(const at::Tensor& x) override {
    at::Tensor h = max_pool2x2(F::relu(conv1_->forward(x)));
    h = max_pool2x2(F::relu(conv2_->forward(h)));
    h = F::relu(fc1_->forward(h.flatten(1)));
    return F::relu(fc2_->forward(h));
  }
  at::Tensor classify(const at::Tensor& features) override { return fc3_->forward(features); }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::Linear fc1_, fc2_, fc3_;
};

}  // namespace

StatusOr<std::shared_ptr<Model>> make_cifar_cnn(const ModelSpec& spec) {
  const int64_t h = ((spec.height - 4) / 2 - 4) / 2, w = ((spec.width - 4) / 2 - 4) / 2;
  if (h < 1 || w < 1) return invalid_argument_error("cifar_cnn needs inputs of at least 16x16");
  return std::shared_ptr<Model>(std::make_shared<CifarCnn>(spec, 16 * h * w));
}

}  // namespace flotilla
