// Partitioner: splits a dataset's sample indices among clients. Labels in, indices out; no
// torch, no I/O. Every client process computes the same partition from (labels, number of
// clients, seed), so no data is shipped: implementations must be deterministic across runs and
// machines (use partitioners/random.h, never std:: distributions, whose output is
// implementation-defined).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

struct Partition {
  // client_indices[k] = the sample indices client k holds, sorted ascending. Every index of the
  // dataset appears at most once over all clients.
  std::vector<std::vector<int64_t>> client_indices;

  int num_clients() const { return static_cast<int>(client_indices.size()); }
  // counts[k][c] = samples of class c held by client k.
  std::vector<std::vector<int64_t>> class_counts(std::span<const int64_t> labels, int64_t num_classes) const;
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  // `labels[i]` is sample i's class in [0, num_classes). Returns InvalidArgument when the split is
  // impossible (more clients than samples, a minimum size that cannot be met), naming the reason.
  virtual StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                        uint64_t seed) const = 0;
};

using PartitionerRegistry = Registry<Partitioner>;

// Adds "iid", "dirichlet", "shards", "label_split", "quantity_skew" and "inner_dirichlet" with their
// options.
Status register_builtin_partitioners(PartitionerRegistry& registry);

}  // namespace flotilla
