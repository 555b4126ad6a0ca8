#include "models/mnist_net.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "models/max_pool.h"

namespace flotilla {
namespace {

namespace F = torch::nn::functional;

class MnistNet final : public Model {
 public:
  MnistNet()
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 10, 5)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(10, 20, 5)))),
        fc1_(register_module("fc1", torch::nn::Linear(320, 50))),
        fc2_(register_module("fc2", torch::nn::Linear(50, 10))) {}

  at::Tensor features(const at::Tensor& x) override {
    at::Tensor h = F::relu(max_pool2x2(conv1_->forward(x)));
    h = F::relu(max_pool2x2(conv2_->forward(h)));
    return F::relu(fc1_->forward(h.reshape({-1, 320})));
  }
  at::Tensor classify(const at::Tensor& features) override { return fc2_->forward(features); }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::Linear fc1_, fc2_;
};

}  // namespace

StatusOr<std::shared_ptr<Model>> make_mnist_net(const ModelSpec& spec) {
  if (spec.channels != 1 || spec.height != 28 || spec.width != 28 || spec.num_classes != 10)
    return invalid_argument_error("mnist_net takes 1x28x28 inputs and 10 classes");
  return std::shared_ptr<Model>(std::make_shared<MnistNet>());
}

}  // namespace flotilla
