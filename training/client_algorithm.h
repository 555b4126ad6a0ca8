// ClientAlgorithm: the client half of a federated algorithm. The server half (an Aggregator,
// aggregators/aggregator.h) names it in client_half(); each client process builds it from its
// registry (built-ins plus --plugin libraries) and runs every task of that rule through it:
//
//   begin()              once per task, before the first local step: read the server's extras
//                        and this logical client's state from its previous task
//   loss_term()          each step: a term added to the cross-entropy, with autograd (FedDyn,
//                        MOON)
//   correct_gradients()  each step, after backward and before the optimizer step (FedProx)
//   after_step()         each step, after the optimizer step (SCAFFOLD's correction)
//   finish()             after the last step: the extras to send back, and the new client state
//
// An instance serves one task at a time (the client's worker thread) and may keep per-task
// members between begin() and finish(); everything that must outlive the task goes in
// ClientTask::state, which the host keeps per logical client (client/client_state_store.h) across
// rounds, skipped rounds and, with --client-state-dir, process restarts. docs/algorithms.md.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/experiment.h"
#include "core/model_state.h"
#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

class Model;

// One task as the client half sees it.
struct ClientTask {
  int client_id = -1;
  int round = 0;
  const TrainConfig* config = nullptr;
  c10::Device device{c10::kCPU};
  int64_t num_samples = 0;                    // this client's training samples
  const ModelState* global = nullptr;         // the model the task brought (CPU), before training
  const ModelState* server_extras = nullptr;  // Aggregator::task_extras() (CPU); checked by begin()
  // This logical client's state as its previous task's finish() left it; empty before its first
  // task. finish() replaces it to keep something (tensors on any device; the host moves them to
  // the CPU).
  ModelState* state = nullptr;
  // The tensors being trained, in the model's named_parameters() order, on `device`. The names
  // match the first entries of *global.
  std::vector<std::string> parameter_names;
  std::vector<at::Tensor> parameters;
  // The model being trained; null when the trainer is not a Model (the least-squares oracle).
  Model* model = nullptr;
  // Builds another model of the task's architecture on `device` holding `state`, in eval mode
  // (MOON's frozen global and previous models). Null when `model` is.
  std::function<StatusOr<std::shared_ptr<Model>>(const ModelState&)> make_model;
};

// One local step, as loss_term() sees it.
struct TrainingStep {
  Model* model = nullptr;
  const at::Tensor* x = nullptr;  // the (augmented, normalised) batch
  const at::Tensor* y = nullptr;
  const at::Tensor* logits = nullptr;
  // The model's representation of x (Model::features), with autograd; undefined unless the
  // algorithm asked for it with needs_features().
  const at::Tensor* features = nullptr;
  int64_t step = 0;  // 0-based, over all epochs
};

class ClientAlgorithm {
 public:
  virtual ~ClientAlgorithm() = default;

  // Checks the server's extras (names, shapes: a wrong one is InvalidArgument naming it, and the
  // task fails, not the process) and prepares per-task members.
  virtual Status begin(ClientTask& task) = 0;
  // Whether loss_term() needs TrainingStep::features (costs nothing extra: forward computes them).
  virtual bool needs_features() const { return false; }
  // Added to the step's loss; an undefined tensor adds nothing.
  virtual at::Tensor loss_term(const TrainingStep& step) {
    (void)step;
    return at::Tensor();
  }
  // May change the gradients of task.parameters in place (same order). Runs without autograd.
  virtual void correct_gradients(std::span<const at::Tensor> parameters) { (void)parameters; }
  // May change task.parameters in place after the optimizer's step (same order). Runs without
  // autograd. A correction applied here bypasses the optimizer's momentum, where one added to the
  // gradient would be amplified by it (1 / (1 - momentum) in the steady state).
  virtual void after_step(std::span<const at::Tensor> parameters) { (void)parameters; }
  // After the last local step (task.parameters hold the trained weights): the extras to send,
  // which the server half checks, and the new *task.state.
  virtual StatusOr<ModelState> finish(ClientTask& task, int64_t steps) = 0;
};

using ClientAlgorithmRegistry = Registry<ClientAlgorithm>;

// The plain local SGD half ("sgd"): no extras, no state. TrainConfig::prox_mu is the trainer's own
// (training/local_trainer.h), so FedProx through --prox-mu needs no client half.
std::unique_ptr<ClientAlgorithm> make_plain_sgd();

// Whether `algorithm` is make_plain_sgd()'s half, which has no per-step hooks: the one client half
// that several Hogwild threads (training/hogwild.h) may train with, since the others' hooks and
// per-task members assume one thread. A free function, not a virtual, to keep plugins' ABI.
bool is_plain_sgd(const ClientAlgorithm& algorithm);

}  // namespace flotilla
