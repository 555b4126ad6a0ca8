// One synchronous gossip step of decentralised averaging: each rank sends its state to its
// neighbours in the mixing graph, receives theirs and replaces its state by x_i <- sum_j W_ij x_j.
// Repeated steps with a doubly stochastic W (Metropolis weights) drive every rank to the average
// of the initial states, the disagreement shrinking by about second_eigenvalue_modulus(W) per step.
#pragma once

#include <utility>
#include <vector>

#include "collective/graph.h"
#include "collective/ring_allreduce.h"
#include "core/model_state.h"

namespace flotilla {

// Neighbours are the ranks j != i with W_ij != 0 (W's support must be symmetric, as it is for a
// MixingMatrix of a Graph). The sum runs over j in increasing rank, this rank included, in float64,
// rounded once to float32, so the step is deterministic. The state's tensors are replaced in place
// (all float32; every rank with the same layout, checked per message). InvalidArgument when W's
// size is not the transport's; DeadlineExceeded naming a neighbour that sent nothing in time.
// bytes_sent = degree * (state size + headers).
StatusOr<CollectiveStats> gossip_step(PeerTransport& transport, const MixingMatrix& w, ModelState& state,
                                      const CollectiveOptions& options = {});

// This rank's row of W: its own weight and each neighbour's (rank, W_ij), which is all one step
// needs (a client is told only its row). gossip_step is this with the row read off W.
struct MixingRow {
  double self_weight = 1.0;
  std::vector<std::pair<int, double>> neighbours;  // (rank, weight), ranks distinct and != this rank
};
StatusOr<CollectiveStats> gossip_mix(PeerTransport& transport, const MixingRow& row, ModelState& state,
                                     const CollectiveOptions& options = {});

}  // namespace flotilla
