// CollectiveMember: this client process's part in decentralised rounds (--topology
// ring-allreduce | gossip). After local training the model is combined with the other members'
// directly, over the peer endpoint this process advertised at registration (--peer-bind): a
// weighted mean by ring all-reduce, or one gossip step with the mixing weights of the task. Or,
// with sync "gradient", during local training: the gradients are all-reduced at every step
// (serverless synchronous data-parallel SGD), so the members' models never part. The
// coordinator only says who is in the group; no update passes through it.
//
// The peer transport is kept from round to round while the group stays the same (connections
// are made once), and dropped after a failed collective, whose stale messages it may still hold.
// Worker thread only, like the TaskRunner that owns it.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "collective/ring_allreduce.h"
#include "collective/zmq_peer_transport.h"
#include "core/model_state.h"
#include "core/status.h"
#include "protocol/messages.h"
#include "transport/curve_keys.h"

namespace flotilla {

class CollectiveMember {
 public:
  // `endpoint`: where this process binds for its peers (no wildcard port: they learn it from the
  // coordinator before it is bound). `keys`: this client's CURVE key pair (empty: in the clear).
  CollectiveMember(std::string endpoint, CurveKeyPair keys) : endpoint_(std::move(endpoint)), keys_(std::move(keys)) {}

  // Combines `state` in place (float32 tensors, the same layout on every member) with the
  // group's as `task` says; `weight`: this member's weight in a ring's weighted mean (its
  // samples). FailedPrecondition when this process has no peer endpoint or the task names
  // another one for this rank; the collective's own error (a silent or dead peer) otherwise.
  StatusOr<CollectiveStats> combine(const msg::CollectiveTask& task, ModelState& state, double weight);

  // Sync "gradient": joins the group and agrees on the steps per epoch every member takes: the
  // fewest full batches of `batch_size` any member's `num_samples` make (1 when a member has less
  // than a batch). Starts this round's traffic count (round_stats()).
  StatusOr<int64_t> agree_steps_per_epoch(const msg::CollectiveTask& task, int64_t num_samples, int batch_size,
                                          int64_t model_bytes);
  // One step's average of the parameters' gradients over the group (after agree_steps_per_epoch).
  Status average_gradients(std::span<const at::Tensor> parameters);
  // The end of a gradient round: `buffers` (float32 state that is not a parameter, e.g. batch-norm
  // statistics, which each member updated from its own data) become their weighted mean, so the
  // members end with the same model. Returns the round's traffic, steps included.
  StatusOr<CollectiveStats> finish_gradient_round(ModelState& buffers, double weight);

 private:
  Status join(const msg::CollectiveTask& task, int64_t model_bytes);

  std::string endpoint_;
  CurveKeyPair keys_;
  std::unique_ptr<ZmqPeerTransport> transport_;
  std::vector<PeerInfo> group_;  // of transport_
  int rank_ = -1;
  msg::CollectiveTask gradient_task_;  // the gradient round in progress
  CollectiveStats round_stats_;        // of that round, so far
};

}  // namespace flotilla
