// Coordinator: runs federated rounds. Owns the ROUTER channel (one thread: the caller of
// run()), the global model, the aggregator and the run directory.
//
// Each round: sample clients (seeded), send each the global state and the training config,
// collect updates until all sampled clients answered or the round timeout passed, aggregate the
// answers in client-id order, evaluate the new global model on the test set, record metrics and
// a checkpoint. At the end every client process is told to shut down.
#pragma once

#include <atomic>
#include <memory>

#include "aggregators/aggregator.h"
#include "coordinator/coordinator_config.h"
#include "core/status.h"

namespace flotilla {

class Coordinator {
 public:
  // `client_half_needs_features`: the aggregator's client half trains on the model's
  // representation (ClientAlgorithm::needs_features(), MOON), which a TorchScript model must then
  // define; refused at start-up otherwise.
  Coordinator(CoordinatorConfig config, std::unique_ptr<Aggregator> aggregator,
              bool client_half_needs_features = false);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Blocks until every round ran, a round failed, or `stop` became true (then Aborted). Prints
  // one line per round on stdout.
  Status run(const std::atomic<bool>* stop = nullptr);

  // The run directory actually used (known once run() started).
  const std::string& run_dir() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flotilla
