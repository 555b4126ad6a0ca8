// Hogwild! (Niu, Recht, Re, Wright, NeurIPS 2011): lock-free parallel SGD inside one client.
// TrainConfig::local_threads = T threads train the same parameters at once, without locks:
//
//  - Each thread has its own replica of the model (create_model_like()) whose parameters and
//    buffers are re-pointed (Tensor::set_data) at the model's storage: a replica keeps its own
//    autograd identity (.grad, version counter) and its own SGD optimizer (momentum buffers),
//    while every optimizer step writes straight into the shared storage, racing with the other
//    threads' reads and writes. The model holds what the threads wrote; the replicas are gone
//    when train_hogwild() returns (so the storage is the model's alone again).
//  - Work: each epoch's order is the single-thread path's seeded shuffle, cut into the same
//    batches; batch k of an epoch goes to thread k mod T. Every sample is used once per epoch,
//    and the total steps equal the single-thread count, epochs * ceil(n / batch_size); each
//    thread has its own momentum over its ~1/T of them. Threads do not wait for each other
//    between epochs. The shared weights thus take T momentum streams at once, each reading
//    slightly stale weights: early in training that is a larger effective step (the mean train
//    loss of a first epoch is higher with T = 4; bench/hogwild.sh shows held-out accuracy within
//    about a point of T = 1).
//  - Buffers (none of the built-in models has any: the ResNets use GroupNorm) are shared like
//    parameters: a BatchNorm's running statistics would be updated by every thread, racing, so
//    they end as some interleaving of the threads' updates (an approximate running mean).
//  - Intra-op parallelism: every worker runs LibTorch (OpenMP, oneDNN, OpenBLAS) with one intra-op
//    thread, so T workers use T cores and not T times all of them. at::set_num_threads() is
//    process-wide (the default of threads that start computing later), so the caller's setting is
//    restored once the workers have joined.
//
// Runs with T > 1 are not bit-reproducible (the interleaving of the writes decides the result),
// and the concurrent float writes are data races by design (ThreadSanitizer reports them). T = 1
// runs the same arithmetic as train_local()'s sequential path on the calling thread, with the
// caller's intra-op threads, and gives the same model bit for bit.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>

#include "core/experiment.h"
#include "core/status.h"
#include "datasets/dataset.h"
#include "training/local_trainer.h"

namespace flotilla {

class ClientAlgorithm;
class Model;

// More threads than this is a configuration mistake, not a machine.
inline constexpr int kMaxLocalThreads = 256;

// Called before each step, from the worker threads, concurrently (so it must be thread-safe):
// the thread (0-based), the step's index in the single-thread order (epoch * batches_per_epoch +
// batch) and the batch's sample indices. For tests and tracing.
using HogwildBatchObserver = std::function<void(int thread, int64_t step, const at::Tensor& indices)>;

// Whether train_hogwild() takes this task, without touching the model or the data:
// InvalidArgument naming local_threads when it is < 1 or > kMaxLocalThreads, when `device` is not
// the CPU (Hogwild is a CPU technique here; a GPU already runs each step's kernels in parallel),
// or when `algorithm` (may be null) is not the plain SGD half (is_plain_sgd(): the other halves'
// per-step hooks assume one thread). FedProx is supported through config.prox_mu.
Status check_hogwild(const TrainConfig& config, c10::Device device, const ClientAlgorithm* algorithm);

// train_local() with config.local_threads threads as described above: the same arguments, checks
// (check_train_config(), check_hogwild()) and result. TrainResult::mean_loss is sample-weighted
// over every thread's batches, steps counts the optimizer steps of all threads. A non-finite loss
// in any thread stops all of them (each finishes its current step) and the error names the thread
// and the step. FailedPrecondition for a model that create_model() did not build (no replicas).
// `model`'s parameters are written concurrently while this runs: nobody else may touch it.
StatusOr<TrainResult> train_hogwild(Model& model, const TensorDataset& data, const TrainConfig& config,
                                    c10::Device device, uint64_t shuffle_seed, ClientAlgorithm* algorithm = nullptr,
                                    const HogwildBatchObserver& observer = {});

}  // namespace flotilla
