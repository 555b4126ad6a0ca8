#include "models/mlp.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/linear.h>

namespace flotilla {
namespace {

class Mlp final : public Model {
 public:
  explicit Mlp(const ModelSpec& s)
      : fc1_(register_module("fc1", torch::nn::Linear(s.channels * s.height * s.width, 200))),
        fc2_(register_module("fc2", torch::nn::Linear(200, 200))),
        fc3_(register_module("fc3", torch::nn::Linear(200, s.num_classes))) {}

  at::Tensor features(const at::Tensor& x) override {
    namespace F = torch::nn::functional;
    at::Tensor h = F::relu(fc1_->forward(x.flatten(1)));
    return F::relu(fc2_->forward(h));
  }
  at::Tensor classify(const at::Tensor& features) override { return fc3_->forward(features); }

 private:
  torch::nn::Linear fc1_, fc2_, fc3_;
};

}  // namespace

StatusOr<std::shared_ptr<Model>> make_mlp(const ModelSpec& spec) {
  return std::shared_ptr<Model>(std::make_shared<Mlp>(spec));
}

}  // namespace flotilla
