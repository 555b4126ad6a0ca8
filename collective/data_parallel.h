// Serverless synchronous data-parallel SGD: after each rank's backward pass on its shard of the
// global batch, allreduce_gradients() replaces every parameter's gradient by the mean over ranks,
// so every rank then takes the same optimizer step (what DistributedDataParallel does, without a
// parameter server). With equal shard sizes and a loss that is a mean over examples, the mean of
// the shard gradients is the gradient of the whole batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <span>

#include "collective/ring_allreduce.h"

namespace flotilla {

// One ring all-reduce for all gradients together (not one per tensor: latency is paid once), then
// a division by N. Every parameter must have a defined float32 gradient (InvalidArgument naming
// the index otherwise); every rank must pass the same parameter layout in the same order. The
// averaged gradients are bit-identical on all ranks (see ring_allreduce.h), so replicas stay equal.
StatusOr<CollectiveStats> allreduce_gradients(PeerTransport& transport, std::span<const at::Tensor> parameters,
                                              const CollectiveOptions& options = {});

}  // namespace flotilla
