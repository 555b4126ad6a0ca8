#include "models/mnist_cnn.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "models/max_pool.h"

namespace flotilla {
namespace {

namespace F = torch::nn::functional;

class MnistCnn final : public Model {
 public:
  explicit MnistCnn(const ModelSpec& s)
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.channels, 32, 5).padding(2)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5).padding(2)))),
        fc1_(register_module("fc1", torch::nn::Linear(64 * (s.height / 4) * (s.width / 4), 512))),
        fc2_(register_module("fc2", torch::nn::Linear(512, s.num_classes))) {}

  at::Tensor features(const at::Tensor& x) override {
    at::Tensor h = max_pool2x2(F::relu(conv1_->forward(x)));
    h = max_pool2x2(F::relu(conv2_->forward(h)));
    return F::relu(fc1_->forward(h.flatten(1)));
  }
  at::Tensor classify(const at::Tensor& features) override { return fc2_->forward(features); }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::Linear fc1_, fc2_;
};

}  // namespace

StatusOr<std::shared_ptr<Model>> make_mnist_cnn(const ModelSpec& spec) {
  if (spec.height % 4 != 0 || spec.width % 4 != 0 || spec.height < 4 || spec.width < 4)
    return invalid_argument_error("mnist_cnn needs height and width divisible by 4");
  return std::shared_ptr<Model>(std::make_shared<MnistCnn>(spec));
}

}  // namespace flotilla
