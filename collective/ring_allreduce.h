// Ring all-reduce over a PeerTransport (Patarasuk & Yuan; what gloo's allreduce_ring and NCCL's ring
// do): a reduce-scatter then an all-gather, 2(N-1) steps, each sending about total/N elements to
// the right neighbour (rank + 1 mod N) and receiving as many from the left. Each rank sends and
// receives 2(N-1)/N of the data whatever N is, which is why it beats a star for large models.
//
// Summation order (fixed, so results are reproducible): the buffer is cut into N chunks, chunk c
// holding elements [c*q + min(c, r), ...) where total = q*N + r (the first r chunks one longer).
// Chunk c is summed around the ring starting at rank c: (((x_c + x_{c+1}) + x_{c+2}) + ... +
// x_{c+N-1}), ranks mod N, in float32, and the finished chunk is copied verbatim to every rank.
// Hence every rank ends with bit-identical values, and a repeated run on the same inputs gives the
// same bits. The result may differ from another summation order by float rounding.
//
// Failure: a receive that times out, or a malformed / mismatched message, ends the collective with
// that Status (naming the silent rank); the failing rank also tells its right neighbour (an abort
// message), which fails at once with Aborted naming who gave up and why, and passes it on. The
// tensors are then left partly reduced: callers treat them as lost. So is the transport: messages
// of the failed collective (aborts included) may still sit in its buffers and would be read as
// the next collective's, so a group recovers with new transports, not by retrying on the old ones.
//
// Thread-safety: one thread per transport (peer_transport.h); the tensors must not be used
// elsewhere during the call.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <span>

#include "collective/peer_transport.h"
#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

struct CollectiveOptions {
  // How long one step waits for its message from a neighbour. Default 30 s.
  std::chrono::milliseconds step_timeout{30000};
};

// What one collective cost this rank, measured by the transport (PeerTraffic deltas).
struct CollectiveStats {
  int steps = 0;               // communication steps (2(N-1) for the ring, 0 when N = 1)
  int64_t elements = 0;        // elements reduced
  int64_t bytes_sent = 0;      // wire bytes, headers and framing included
  int64_t bytes_received = 0;  // wire bytes
};

// Replaces each tensor (float32, any shape and device) by its sum over all ranks, in place. Every
// rank must pass the same number of tensors with the same element counts, in the same order
// (checked per message: DataLoss otherwise). InvalidArgument for a non-float32 or undefined tensor.
// N = 1 is a no-op.
StatusOr<CollectiveStats> ring_allreduce(PeerTransport& transport, std::span<at::Tensor> tensors,
                                         const CollectiveOptions& options = {});

// The same on one 1-D float32 contiguous CPU tensor, which the others lay their tensors out in.
StatusOr<CollectiveStats> ring_allreduce_flat(PeerTransport& transport, at::Tensor& flat,
                                              const CollectiveOptions& options = {});

// Every rank ends with sum_i w_i x_i / sum_i w_i, its state's tensors replaced in place (all must be
// float32). The weight travels as one extra element of the same collective; each rank's w_i * x_i
// is rounded to float32 once, then summed in the order above, so the result is within about
// (N + 1) float32 roundings of the exact weighted mean (relative to sum_i w_i |x_i| / sum_i w_i).
// Weights are summed in float32 too: exact for integer weights (sample counts) summing below 2^24.
// InvalidArgument for a negative or non-finite weight, or when all weights are zero.
StatusOr<CollectiveStats> ring_weighted_mean(PeerTransport& transport, ModelState& state, double weight,
                                             const CollectiveOptions& options = {});

}  // namespace flotilla
