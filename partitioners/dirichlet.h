// Dirichlet non-IID split over class proportions (Hsu et al. 2019, as in the widely used
// implementation of NIID-Bench / FedML): for every class, shuffle its samples, draw client shares
// p ~ Dir(alpha) and cut the class at floor(cumsum(p) * class size). Small alpha: each client sees
// few classes; large alpha: close to IID. The whole draw is repeated (the generator continuing)
// until every client holds at least min_partition_size samples, at most max_retries times, then
// fails with a message saying why instead of looping forever.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

struct DirichletOptions {
  double alpha = 0.5;               // concentration; finite and > 0
  int64_t min_partition_size = 10;  // fewest samples any client may get; >= 0 (a client always gets >= 1)
  int max_retries = 100;            // whole re-draws before giving up; >= 1
  // The common "balance" trick: a client already holding N / num_clients samples gets no share
  // of later classes, which keeps client sizes from running away.
  bool balance = true;
};

// InvalidArgument naming the first option out of range.
Status check_dirichlet_options(const DirichletOptions& options);

// Stateless after construction: partition() may be called from several threads.
class DirichletPartitioner final : public Partitioner {
 public:
  explicit DirichletPartitioner(DirichletOptions options) : options_(options) {}
  // Also InvalidArgument when the options are out of range (see check_dirichlet_options).
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "dirichlet" with options alpha, min_partition_size, max_retries, balance.
  static PartitionerRegistry::Entry registry_entry();

 private:
  DirichletOptions options_;
};

}  // namespace flotilla
