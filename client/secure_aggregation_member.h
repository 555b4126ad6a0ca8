// SecureAggregationMember: a client process's side of secure aggregation (secagg/protocol.h). For
// each of its logical clients in a round it keeps the protocol's state and the encoded update,
// from the task's answer (stage 0: its keys) to the unmasking (stage 3), and answers the
// coordinator's steps in between. The update itself never leaves: only its masked vector does.
//
// Thread-safety: none; the process's worker thread uses it (client/client_host.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "core/model_state.h"
#include "core/status.h"
#include "protocol/messages.h"
#include "secagg/protocol.h"
#include "secagg/update_vector.h"

namespace flotilla {

// Fault injection for tests: in round `round` the process's clients stop answering at `stage`
// (0: they train but never send their keys; 1: no shares; 2: no masked input; 3: no unmasking
// shares), as a client that dropped out then would. round 0: never; kEveryRound: every round.
// `exit`: the process dies there instead (exit status 137, as SIGKILL), so that the coordinator
// notices through liveness rather than the stage's timeout.
struct SecAggDropout {
  static constexpr int kEveryRound = -1;
  int round = 0;
  int stage = 0;
  bool exit = false;
};

class SecureAggregationMember {
 public:
  explicit SecureAggregationMember(SecAggDropout dropout = {}) : dropout_(dropout) {}

  // Stage 0, after `client_id` trained for `task`: encodes its update (trained against the task's
  // global model, and the client half's `extras` when the task sums them) and returns the step that answers the task:
  // its keys and `report`. Nothing when the dropout says so. A newer task of the client replaces its earlier round's
  // state.
  StatusOr<std::optional<msg::SecAggStep>> begin(const msg::RoundTask& task, int client_id, const ModelState& trained,
                                                 const ModelState& extras, int64_t num_samples,
                                                 msg::SecAggReport report);
  // Stages 1-3: the answer to the coordinator's step, or nothing (the dropout). FailedPrecondition
  // for a step of no round this process's client takes part in, or one the protocol refuses
  // (e.g. a request for both of a neighbour's shares).
  StatusOr<std::optional<msg::SecAggStep>> answer(const msg::SecAggStep& step);

 private:
  struct Session {
    uint64_t task_id = 0;
    int round = 0;
    secagg::SecAggClient protocol;
    secagg::UpdateLayout layout;
    std::vector<uint64_t> words;
  };
  // Whether the dropout falls here; when it is a process exit, the process ends now.
  bool drops_out(int client_id, int round, int stage) const;

  SecAggDropout dropout_;
  std::map<int, Session> sessions_;  // by client id
};

}  // namespace flotilla
