// Local training speed: Flotilla's train_local() against a bare LibTorch loop (the same model,
// data, batch size and optimiser, written as a tutorial would) on the same device, in samples per
// second. The gap is what the framework's training loop costs. A third column trains the same
// network with ATen's max_pool2d in place of the models' own pooling kernel (models/max_pool.h),
// as a tutorial's network would be. Prints a table; not a test.
//
// --torchscript compares instead train_local() on each built-in model with train_local() on a
// TorchScript copy of it (models/torchscript_model.h: the same layers written in TorchScript,
// as torch.jit.script would give a Python user's network, starting from the same weights),
// alternating the two over --runs runs (medians; the ratio range is the slowest TorchScript run
// over the fastest built-in one to the reverse), and says whether the two trained models are equal
// bit for bit, and the ratio of samples per CPU-second (process CPU time, steadier than wall time on
// a busy machine). Each model first trains on 8 batches, timed apart: a TorchScript model's first
// steps also profile and optimise its graph.
//
//   trainer_throughput [--device auto|cpu|cuda] [--samples N] [--epochs E] [--batch B]
//                      [--torchscript] [--runs R]
#include <torch/csrc/jit/api/module.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include "core/digest.h"
#include "models/model_registry.h"
#include "models/torchscript_archive.h"
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

// The TorchScript source of a built-in MNIST CNN: ATen's max_pool2d, as a Python network has.
const char* torchscript_source(const std::string& name) {
  if (name == "mnist_net")
    return R"(
def forward(self, x):
    h = torch.relu(torch.max_pool2d(torch.conv2d(x, self.conv1.weight, self.conv1.bias), 2))
    h = torch.relu(torch.max_pool2d(torch.conv2d(h, self.conv2.weight, self.conv2.bias), 2))
    h = torch.relu(torch.linear(h.reshape(-1, 320), self.fc1.weight, self.fc1.bias))
    return torch.linear(h, self.fc2.weight, self.fc2.bias)
)";
  return R"(
def forward(self, x):
    h = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv1.weight, self.conv1.bias, 1, 2)), 2)
    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.conv2.weight, self.conv2.bias, 1, 2)), 2)
    h = torch.relu(torch.linear(h.flatten(1), self.fc1.weight, self.fc1.bias))
    return torch.linear(h, self.fc2.weight, self.fc2.bias)
)";
}

// A TorchScript archive of `model`'s layers (conv1, conv2, fc1, fc2) and weights, in the store;
// returns the model name.
flotilla::StatusOr<std::string> torchscript_copy(const std::string& name, const Model& model) {
  torch::jit::Module net(name + "_script");
  net.register_attribute("training", c10::BoolType::get(), true);
  for (const auto& child : model.named_children()) {
    torch::jit::Module layer(child.key() + "_layer");
    layer.register_attribute("training", c10::BoolType::get(), true);
    for (const auto& p : child.value()->named_parameters(/*recurse=*/false))
      layer.register_parameter(p.key(), p.value().detach().clone().requires_grad_(), /*is_buffer=*/false);
    net.register_module(child.key(), layer);
  }
  net.define(torchscript_source(name));
  std::ostringstream bytes;
  net.save(bytes);
  ASSIGN_OR_RETURN(std::string sha256, flotilla::add_torchscript_archive(bytes.str()));
  return flotilla::torchscript_model_name(sha256);
}

// CPU time of the whole process (every thread): on a shared machine, other processes' load
// stretches wall time but not this, so ratios of it are steadier.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// train_local() on the built-in model and on its TorchScript copy, alternating, `runs` times each.
int compare_torchscript(const flotilla::TensorDataset& data, int epochs, int64_t batch, c10::Device device, int runs) {
  std::printf("%-10s %11s %14s %8s %12s %10s %11s %18s\n", "model", "built-in/s", "torchscript/s", "ratio",
              "ratio range", "CPU ratio", "same model", "first 8 steps, ms");
  for (const std::string name : {"mnist_net", "mnist_cnn"}) {
    torch::manual_seed(0);
    auto reference = flotilla::create_model(name, flotilla::ModelSpec{1, 28, 28, 10});
    if (!reference.ok()) return 1;
    auto script_name = torchscript_copy(name, **reference);
    if (!script_name.ok()) {
      std::fprintf(stderr, "%s\n", script_name.status().to_string().c_str());
      return 1;
    }
    std::vector<double> rates[2], cpu_rates[2], first_steps[2];
    std::string digests[2];
    for (int run = 0; run < runs; ++run) {
      for (int k = 0; k < 2; ++k) {
        auto model = flotilla::create_model(k == 0 ? name : *script_name, flotilla::ModelSpec{1, 28, 28, 10});
        if (!model.ok() || !flotilla::load_model_state(**model, flotilla::model_state(**reference)).ok()) {
          std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
          return 1;
        }
        (*model)->to(device);
        flotilla::TrainConfig config;
        config.batch_size = static_cast<int>(batch);
        // The first steps of a TorchScript model also profile and optimise its graph (once per
        // model): timed apart, over 8 batches.
        flotilla::TensorDataset warm = data;
        warm.images = data.images.narrow(0, 0, std::min<int64_t>(data.size(), 8 * batch));
        warm.labels = data.labels.narrow(0, 0, warm.images.size(0));
        auto warmed = flotilla::train_local(**model, warm, config, device, 1);
        config.epochs = epochs;
        const double cpu_start = process_cpu_seconds();
        auto trained = warmed.ok() ? flotilla::train_local(**model, data, config, device, 1) : warmed;
        const double cpu_seconds = process_cpu_seconds() - cpu_start;
        if (!trained.ok()) {
          std::fprintf(stderr, "%s\n", trained.status().to_string().c_str());
          return 1;
        }
        first_steps[k].push_back(warmed->seconds * 1000);
        rates[k].push_back(static_cast<double>(data.size() * epochs) / trained->seconds);
        cpu_rates[k].push_back(static_cast<double>(data.size() * epochs) / cpu_seconds);
        digests[k] = flotilla::model_sha256(flotilla::model_state(**model).to_cpu());
      }
    }
    const auto [lo0, hi0] = std::minmax_element(rates[0].begin(), rates[0].end());
    const auto [lo1, hi1] = std::minmax_element(rates[1].begin(), rates[1].end());
    const std::string range = std::to_string(*lo1 / *hi0).substr(0, 5) + "-" + std::to_string(*hi1 / *lo0).substr(0, 5);
    const std::string first = std::to_string(static_cast<int>(median(first_steps[0]))) + " vs " +
                              std::to_string(static_cast<int>(median(first_steps[1])));
    std::printf("%-10s %11.0f %14.0f %8.3f %12s %10.3f %11s %18s\n", name.c_str(), median(rates[0]), median(rates[1]),
                median(rates[1]) / median(rates[0]), range.c_str(), median(cpu_rates[1]) / median(cpu_rates[0]),
                digests[0] == digests[1] ? "yes" : "no", first.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_flag = "auto";
  int64_t samples = 6000, batch = 32;
  int epochs = 1, runs = 5;
  bool torchscript = false;
  for (int i = 1; i < argc; i += 2) {
    if (!std::strcmp(argv[i], "--torchscript")) {
      torchscript = true;
      --i;
      continue;
    }
    if (i + 1 == argc) {
      std::fprintf(stderr, "flag %s needs a value\n", argv[i]);
      return 2;
    }
    if (!std::strcmp(argv[i], "--device"))
      device_flag = argv[i + 1];
    else if (!std::strcmp(argv[i], "--samples"))
      samples = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--epochs"))
      epochs = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::max(1, std::stoi(argv[i + 1]));
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
  if (torchscript) return compare_torchscript(data, epochs, batch, *device, runs);
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
