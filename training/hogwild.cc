#include "training/hogwild.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "models/model_registry.h"
#include "models/torch_errors.h"
#include "training/augment.h"
#include "training/client_algorithm.h"

namespace flotilla {
namespace {

// What the workers share: read-only inputs, the stop flag and the first error.
struct Shared {
  const TensorDataset* data = nullptr;
  const TrainConfig* config = nullptr;
  std::vector<at::Tensor> orders;  // one seeded shuffle per epoch, as the single-thread path draws them
  int64_t batches_per_epoch = 0;
  std::vector<at::Tensor> anchor;  // w_global for the proximal term; empty without one
  const HogwildBatchObserver* observer = nullptr;

  std::atomic<bool> stop{false};
  std::mutex mutex;
  Status error;  // the first failure; guarded by mutex

  void fail(Status status) {
    std::lock_guard<std::mutex> lock(mutex);
    if (error.ok()) error = std::move(status);
    stop.store(true);
  }
};

struct Worker {
  std::shared_ptr<Model> replica;
  at::Generator augment_generator;
  double loss_sum = 0.0;
  int64_t steps = 0;
};

// A replica of `model` whose parameters and buffers share the model's storage (see hogwild.h).
// Building it draws initial weights from torch's global generator; they are thrown away, so the
// generator's state is put back and the caller's later draws are the same as without Hogwild.
StatusOr<std::shared_ptr<Model>> make_replica(Model& model) {
  at::Generator global = at::detail::getDefaultCPUGenerator();
  at::Tensor saved;
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    saved = global.get_state();
  }
  auto made = create_model_like(model);
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    global.set_state(saved);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Model> replica, std::move(made));
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> mine = replica->parameters(), theirs = model.parameters();
  std::vector<at::Tensor> my_buffers = replica->buffers(), their_buffers = model.buffers();
  if (mine.size() != theirs.size() || my_buffers.size() != their_buffers.size())
    return internal_error("a replica of model '" + model.registry_name() + "' has a different layout");
  mine.insert(mine.end(), my_buffers.begin(), my_buffers.end());
  theirs.insert(theirs.end(), their_buffers.begin(), their_buffers.end());
  for (size_t i = 0; i < mine.size(); ++i) {
    if (!mine[i].sizes().equals(theirs[i].sizes()) || mine[i].scalar_type() != theirs[i].scalar_type())
      return internal_error("a replica of model '" + model.registry_name() + "' has a different layout");
    // set_data keeps the replica's own autograd meta and version counter: its in-place optimizer
    // steps do not invalidate the graphs other threads saved (they read whatever is there: Hogwild).
    mine[i].set_data(theirs[i]);
  }
  replica->train();
  return replica;
}

std::string ordinal(int64_t k) {
  const int64_t tens = k % 100, ones = k % 10;
  const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                       : ones == 1                ? "st"
                       : ones == 2                ? "nd"
                       : ones == 3                ? "rd"
                                                  : "th";
  return std::to_string(k) + suffix;
}

// Thread `t` of `threads`: batches t, t + threads, ... of every epoch, on its replica.
void run_worker(Worker& w, int t, int threads, Shared& s) {
  const TensorDataset& data = *s.data;
  const TrainConfig& config = *s.config;
  const int64_t n = data.size();
  std::vector<at::Tensor> params = w.replica->parameters();
  torch::optim::SGD optimizer(
      params, torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weight_decay));
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    for (int64_t batch = t; batch < s.batches_per_epoch; batch += threads) {
      if (s.stop.load(std::memory_order_relaxed)) return;
      const int64_t begin = batch * config.batch_size;
      const int64_t len = std::min<int64_t>(config.batch_size, n - begin);
      const int64_t step = epoch * s.batches_per_epoch + batch;
      at::Tensor idx = s.orders[epoch].narrow(0, begin, len);
      if (*s.observer) (*s.observer)(t, step, idx);
      // The same arithmetic, in the same order, as train_local()'s sequential loop.
      at::Tensor x =
          augment_batch(data.normalize(data.images.index_select(0, idx)), config.augment, w.augment_generator);
      at::Tensor y = data.labels.index_select(0, idx);
      optimizer.zero_grad();
      at::Tensor loss = torch::nn::functional::cross_entropy(w.replica->forward(x), y);
      loss.backward();
      if (!s.anchor.empty()) add_proximal_gradient(params, s.anchor, config.prox_mu);
      optimizer.step();
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        s.fail(invalid_argument_error("training loss became " + std::to_string(value) + " in Hogwild thread " +
                                      std::to_string(t) + " of " + std::to_string(threads) + " at step " +
                                      std::to_string(step) + " (the thread's " + ordinal(w.steps + 1) +
                                      "); all threads stopped (lower the learning rate?)"));
        return;
      }
      w.loss_sum += value * static_cast<double>(len);
      ++w.steps;
    }
  }
}

// Remembers the calling thread's intra-op thread count and sets it back when destroyed: the
// workers' at::set_num_threads(1) also changes LibTorch's process-wide default.
class IntraOpThreads {
 public:
  IntraOpThreads() : saved_(at::get_num_threads()) {}
  ~IntraOpThreads() { at::set_num_threads(saved_); }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace

Status check_hogwild(const TrainConfig& config, c10::Device device, const ClientAlgorithm* algorithm) {
  const int t = config.local_threads;
  if (t < 1 || t > kMaxLocalThreads)
    return invalid_argument_error("local_threads must be in [1, " + std::to_string(kMaxLocalThreads) + "], got " +
                                  std::to_string(t));
  if (!device.is_cpu())
    return invalid_argument_error("local_threads = " + std::to_string(t) +
                                  " (Hogwild!) trains on the CPU only, but this client trains on " + device.str() +
                                  "; use local_threads = 1 there (the device already runs each step in parallel)");
  if (algorithm && !is_plain_sgd(*algorithm))
    return invalid_argument_error("local_threads = " + std::to_string(t) +
                                  " (Hogwild!) trains only with the plain SGD client half: this client half's per-step "
                                  "hooks (SCAFFOLD, FedDyn, MOON, FedNova, fedprox ...) assume one thread; for "
                                  "FedProx use prox_mu (--prox-mu) with the plain half, or local_threads = 1");
  return Status();
}

StatusOr<TrainResult> train_hogwild(Model& model, const TensorDataset& data, const TrainConfig& config,
                                    c10::Device device, uint64_t shuffle_seed, ClientAlgorithm* algorithm,
                                    const HogwildBatchObserver& observer) {
  RETURN_IF_ERROR(check_hogwild(config, device, algorithm));
  const int64_t n = data.size();
  RETURN_IF_ERROR(check_train_config(n, config));
  const int threads = config.local_threads;

  const auto start = std::chrono::steady_clock::now();
  try {
    model.train();
    Shared shared;
    shared.data = &data;
    shared.config = &config;
    shared.observer = &observer;
    shared.batches_per_epoch = (n + config.batch_size - 1) / config.batch_size;
    if (config.prox_mu > 0)
      for (const auto& p : model.parameters()) shared.anchor.push_back(p.detach().clone());
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(shuffle_seed);
    for (int epoch = 0; epoch < config.epochs; ++epoch)
      shared.orders.push_back(at::randperm(n, generator, at::TensorOptions().dtype(at::kLong)));

    // Thread 0's augmentation stream is the single-thread path's; the others' are offset from it.
    const uint64_t augment_seed = shuffle_seed ^ 0x9e3779b97f4a7c15ULL;
    std::vector<Worker> workers(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      ASSIGN_OR_RETURN(workers[t].replica, make_replica(model));
      workers[t].augment_generator =
          at::make_generator<at::CPUGeneratorImpl>(augment_seed + static_cast<uint64_t>(t) * 0xbf58476d1ce4e5b9ULL);
    }

    if (threads == 1) {
      run_worker(workers[0], 0, 1, shared);
    } else {
      IntraOpThreads restore;
      std::vector<std::thread> pool;
      pool.reserve(static_cast<size_t>(threads));
      for (int t = 0; t < threads && !shared.stop.load(); ++t) {
        try {
          pool.emplace_back([&, t] {
            try {
              at::set_num_threads(1);
              run_worker(workers[t], t, threads, shared);
            } catch (const std::exception& e) {
              shared.fail(internal_error("local training failed in Hogwild thread " + std::to_string(t) + ": " +
                                         torch_error_message(e)));
            }
          });
        } catch (const std::system_error& e) {  // the threads already started must still be joined
          shared.fail(internal_error("could not start Hogwild thread " + std::to_string(t) + " of " +
                                     std::to_string(threads) + ": " + e.what()));
        }
      }
      for (auto& thread : pool) thread.join();
    }
    RETURN_IF_ERROR(shared.error);

    TrainResult result;
    for (const auto& w : workers) {
      result.mean_loss += w.loss_sum;
      result.steps += w.steps;
    }
    result.mean_loss /= static_cast<double>(n * config.epochs);
    result.num_samples = n;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  } catch (const std::exception& e) {
    return internal_error("local training failed: " + torch_error_message(e));
  }
}

}  // namespace flotilla
