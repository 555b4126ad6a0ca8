// Local training speed: Flotilla's train_local() against a bare LibTorch loop (the same model,
// data, batch size and optimiser, written as a tutorial would) on the same device, in samples per
// second. The gap is what the framework's training loop costs. A third column trains the same
// network with ATen's max_pool2d in place of the models' own pooling kernel (models/max_pool.h),
// as a tutorial's network would be. Prints a table; not a test.
//
//   trainer_throughput [--device auto|cpu|cuda] [--samples N] [--epochs E] [--batch B]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/model_registry.h"
#include "training/device.h"
#include "training/local_trainer.h"

namespace {

using flotilla::Model;
using Clock = std::chrono::steady_clock;

// MNIST-shaped uint8 images with learnable labels (the label sets a bright stripe).
flotilla::TensorDataset make_data(int64_t n, c10::Device device) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  flotilla::TensorDataset d;
  d.labels = at::randint(0, 10, {n}, gen, at::TensorOptions().dtype(at::kLong));
  at::Tensor images = at::randint(0, 64, {n, 1, 28, 28}, gen, at::TensorOptions().dtype(at::kByte));
  for (int64_t i = 0; i < n; ++i) images[i][0][d.labels[i].item<int64_t>() * 2 + 4].fill_(255);
  d.images = images.to(device);
  d.labels = d.labels.to(device);
  d.mean = {0.1307};
  d.std = {0.3081};
  return d;
}

// A registry CNN's layers with ATen's max_pool2d. Pooling then ReLU gives the same values and
// gradients as ReLU then pooling, so one forward serves both MNIST CNNs.
class AtenPooling final : public Model {
 public:
  explicit AtenPooling(const std::shared_ptr<Model>& inner)
      : inner_(register_module("inner", inner)),
        conv1_(inner->named_children()["conv1"]->as<torch::nn::Conv2d>()),
        conv2_(inner->named_children()["conv2"]->as<torch::nn::Conv2d>()),
        fc1_(inner->named_children()["fc1"]->as<torch::nn::Linear>()) {}

  at::Tensor features(const at::Tensor& x) override {
    namespace F = torch::nn::functional;
    at::Tensor h = F::relu(F::max_pool2d(conv1_->forward(x), F::MaxPool2dFuncOptions(2)));
    h = F::relu(F::max_pool2d(conv2_->forward(h), F::MaxPool2dFuncOptions(2)));
    return F::relu(fc1_->forward(h.flatten(1)));
  }
  at::Tensor classify(const at::Tensor& features) override { return inner_->classify(features); }

 private:
  std::shared_ptr<Model> inner_;
  torch::nn::Conv2dImpl* conv1_;
  torch::nn::Conv2dImpl* conv2_;
  torch::nn::LinearImpl* fc1_;
};

double bare_loop(Model& model, const flotilla::TensorDataset& data, int epochs, int64_t batch, c10::Device device) {
  model.train();
  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const int64_t n = data.size();
  at::Tensor last;
  const auto start = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    at::Tensor order = at::randperm(n, at::TensorOptions().dtype(at::kLong)).to(device);
    for (int64_t b = 0; b < n; b += batch) {
      at::Tensor idx = order.narrow(0, b, std::min(batch, n - b));
      at::Tensor x = data.normalize(data.images.index_select(0, idx));
      at::Tensor y = data.labels.index_select(0, idx);
      optimizer.zero_grad();
      at::Tensor loss = torch::nn::functional::cross_entropy(model.forward(x), y);
      loss.backward();
      optimizer.step();
      last = loss;
    }
  }
  (void)last.item<double>();  // waits for a GPU to finish
  return static_cast<double>(n * epochs) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_flag = "auto";
  int64_t samples = 6000, batch = 32;
  int epochs = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--device"))
      device_flag = argv[i + 1];
    else if (!std::strcmp(argv[i], "--samples"))
      samples = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--epochs"))
      epochs = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::stoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  auto device = flotilla::resolve_device(device_flag);
  if (!device.ok()) {
    std::fprintf(stderr, "%s\n", device.status().message().c_str());
    return 2;
  }
  const flotilla::TensorDataset data = make_data(samples, *device);
  std::printf("device %s, %lld samples, %d epoch(s), batch %lld, %d thread(s)\n", device->str().c_str(),
              static_cast<long long>(samples), epochs, static_cast<long long>(batch), at::get_num_threads());
  std::printf("%-10s %22s %14s %14s %8s\n", "model", "bare loop, ATen pool/s", "bare loop/s", "flotilla/s", "ratio");
  for (const char* name : {"mnist_net", "mnist_cnn"}) {
    double rate[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      torch::manual_seed(0);
      auto model = flotilla::create_model(name, flotilla::ModelSpec{1, 28, 28, 10});
      if (!model.ok()) return 1;
      (*model)->to(*device);
      if (k == 0) {
        // The first model on a GPU pays for CUDA's and cuDNN's start-up; one untimed pass over a
        // slice keeps that out of whichever loop would run first.
        flotilla::TensorDataset warm = data;
        warm.images = data.images.narrow(0, 0, std::min<int64_t>(samples, 8 * batch));
        warm.labels = data.labels.narrow(0, 0, warm.images.size(0));
        (void)bare_loop(**model, warm, 1, batch, *device);
        rate[k] = bare_loop(**model, data, epochs, batch, *device);
      } else if (k == 1) {
        flotilla::TrainConfig config;
        config.epochs = epochs;
        config.batch_size = static_cast<int>(batch);
        auto trained = flotilla::train_local(**model, data, config, *device, 1);
        if (!trained.ok()) {
          std::fprintf(stderr, "%s\n", trained.status().message().c_str());
          return 1;
        }
        rate[k] = static_cast<double>(samples * epochs) / trained->seconds;
      } else {
        AtenPooling tutorial(*model);
        tutorial.to(*device);
        rate[k] = bare_loop(tutorial, data, epochs, batch, *device);
      }
    }
    std::printf("%-10s %22.0f %14.0f %14.0f %8.3f\n", name, rate[2], rate[0], rate[1], rate[1] / rate[0]);
  }
  return 0;
}
