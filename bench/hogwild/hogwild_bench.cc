// Hogwild! local training (training/hogwild.h): samples/s and held-out accuracy of the same
// model, data and seed trained with local_threads = 1, 2, 4 ... on the CPU. Prints a table; not a
// test. Real MNIST with --data-dir (a subset: --samples), else generated 28x28 data
// (datasets/synthetic.h). Each row starts from the same initial weights.
//
//   hogwild_bench [--model mnist_cnn|mnist_net] [--data-dir DIR] [--samples N] [--test N]
//                 [--epochs E] [--batch B] [--lr LR] [--threads 1,2,4]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "datasets/dataset_loader.h"
#include "datasets/synthetic.h"
#include "models/model_registry.h"
#include "training/evaluator.h"
#include "training/local_trainer.h"

namespace {

flotilla::TensorDataset head(const flotilla::TensorDataset& d, int64_t n) {
  return d.select(at::arange(std::min(n, d.size()), at::TensorOptions().dtype(at::kLong)));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_name = "mnist_cnn", data_dir, threads_list = "1,2,4";
  int64_t samples = 4000, test = 2000, batch = 32;
  int epochs = 1;
  double lr = 0.01;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model")
      model_name = value;
    else if (flag == "--data-dir")
      data_dir = value;
    else if (flag == "--samples")
      samples = std::stoll(value);
    else if (flag == "--test")
      test = std::stoll(value);
    else if (flag == "--epochs")
      epochs = std::stoi(value);
    else if (flag == "--batch")
      batch = std::stoll(value);
    else if (flag == "--lr")
      lr = std::stod(value);
    else if (flag == "--threads")
      threads_list = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::vector<int> thread_counts;
  std::stringstream list(threads_list);
  for (std::string item; std::getline(list, item, ',');) thread_counts.push_back(std::stoi(item));

  flotilla::DatasetSplits splits;
  if (data_dir.empty()) {
    flotilla::SyntheticSpec spec;
    spec.train_size = samples;
    spec.test_size = test;
    spec.height = spec.width = 28;
    splits = flotilla::make_synthetic(spec);
  } else {
    auto loaded = flotilla::load_dataset("mnist", data_dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 1;
    }
    splits = std::move(loaded).value();
  }
  const flotilla::TensorDataset train = head(splits.train, samples), held_out = head(splits.test, test);

  std::printf(
      "%s on %s: %lld train / %lld held-out samples, %d epoch(s), batch %lld, lr %g; %u hardware threads, "
      "%d intra-op threads for T = 1\n",
      model_name.c_str(), data_dir.empty() ? "synthetic 28x28" : ("MNIST from " + data_dir).c_str(),
      static_cast<long long>(train.size()), static_cast<long long>(held_out.size()), epochs,
      static_cast<long long>(batch), lr, std::thread::hardware_concurrency(), at::get_num_threads());
  std::printf("%8s %12s %8s %12s %10s %10s\n", "threads", "samples/s", "steps", "train loss", "test loss", "test acc");
  for (int threads : thread_counts) {
    at::manual_seed(0);
    auto model = flotilla::create_model(model_name, flotilla::ModelSpec{1, 28, 28, 10});
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", model.status().message().c_str());
      return 1;
    }
    flotilla::TrainConfig config;
    config.epochs = epochs;
    config.batch_size = static_cast<int>(batch);
    config.lr = lr;
    config.local_threads = threads;
    auto trained = flotilla::train_local(**model, train, config, at::kCPU, 1);
    if (!trained.ok()) {
      std::fprintf(stderr, "%s\n", trained.status().message().c_str());
      return 1;
    }
    auto eval = flotilla::evaluate(**model, held_out, at::kCPU);
    if (!eval.ok()) {
      std::fprintf(stderr, "%s\n", eval.status().message().c_str());
      return 1;
    }
    std::printf("%8d %12.0f %8lld %12.4f %10.4f %10.4f\n", threads,
                static_cast<double>(train.size() * epochs) / trained->seconds, static_cast<long long>(trained->steps),
                trained->mean_loss, eval->loss, eval->accuracy);
  }
  return 0;
}
