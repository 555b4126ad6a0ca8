// AsyncRule: the math of one asynchronous server rule (FedAsync, FedBuff), apart from the
// bookkeeping (tasks, versions, staleness, validation) that AsyncServer does for every rule, as
// sync rules keep the weighted mean apart from the aggregator policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// One accepted update as a rule sees it. The models are validated (layout of the global model,
// finite) and outlive the call.
struct AsyncContribution {
  int client_id = -1;
  int64_t num_samples = 0;              // > 0
  int64_t staleness = 0;                // tau: versions the global model moved since `base`
  double staleness_weight = 1.0;        // s(tau), in (0, 1]
  const ModelState* global = nullptr;   // x, the current global model
  const ModelState* base = nullptr;     // the model the client started from (== global when tau = 0)
  const ModelState* trained = nullptr;  // the client's model, delay-compensated when DC-ASGD is on
};

struct Absorbed {
  std::optional<ModelState> model;  // the new global model, when this update changed it
  double weight = 0.0;              // the weight the rule gave the update (see each rule), for metrics
};

// Called from the coordinator's event loop only (one thread).
class AsyncRule {
 public:
  virtual ~AsyncRule() = default;
  // Takes one update in. The new global model must be made of new tensors: the old one may still
  // be the base of tasks in flight (async/version_store.h). An error leaves the rule as it was.
  virtual StatusOr<Absorbed> absorb(const AsyncContribution& contribution) = 0;
  // Updates taken in but not yet applied to the global model (FedBuff's buffer); 0 for FedAsync.
  virtual int buffered() const { return 0; }
  // "fedasync", "fedbuff".
  virtual std::string name() const = 0;
};

}  // namespace flotilla
