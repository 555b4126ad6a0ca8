#include "models/wide_mlp.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

namespace flotilla {
namespace {

constexpr int64_t kMaxHidden = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 64;

class WideMlp final : public Model {
 public:
  WideMlp(const ModelSpec& s, int64_t hidden, int64_t layers) {
    int64_t in = s.channels * s.height * s.width;
    // fc1 ... fc<layers> are the hidden layers, fc<layers+1> the classifier: state names as the
    // 2NN's (fc1.weight, ...), so that tools reading one read the other.
    for (int64_t i = 1; i <= layers; ++i) {
      hidden_.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(in, hidden)));
      in = hidden;
    }
    out_ = register_module("fc" + std::to_string(layers + 1), torch::nn::Linear(in, s.num_classes));
  }

  at::Tensor features(const at::Tensor& x) override {
    at::Tensor h = x.flatten(1);
    for (auto& layer : hidden_) h = torch::nn::functional::relu(layer->forward(h));
    return h;
  }
  at::Tensor classify(const at::Tensor& features) override { return out_->forward(features); }

 private:
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear out_{nullptr};
};

}  // namespace

std::vector<OptionSpec> wide_mlp_options() {
  return {{"hidden", "4096", "units in each hidden layer (1 to 1048576)"}, {"layers", "2", "hidden layers (1 to 64)"}};
}

StatusOr<std::shared_ptr<Model>> make_wide_mlp(const ModelSpec& spec, const Options& options) {
  ASSIGN_OR_RETURN(int64_t hidden, options.get_int("hidden"));
  ASSIGN_OR_RETURN(int64_t layers, options.get_int("layers"));
  if (hidden < 1 || hidden > kMaxHidden)
    return invalid_argument_error("hidden = " + std::to_string(hidden) + " is outside 1 to " +
                                  std::to_string(kMaxHidden));
  if (layers < 1 || layers > kMaxLayers)
    return invalid_argument_error("layers = " + std::to_string(layers) + " is outside 1 to " +
                                  std::to_string(kMaxLayers));
  return std::shared_ptr<Model>(std::make_shared<WideMlp>(spec, hidden, layers));
}

}  // namespace flotilla
