// Dirichlet non-IID split over class proportions (Hsu et al. 2019, as in the widely used
// implementation): for every class, shuffle its samples, draw client shares p ~ Dir(alpha) and cut
// the class by the cumulative shares. Small alpha: each client sees few classes; large alpha:
// close to IID. The whole draw is repeated until every client holds at least min_partition_size
// samples, at most max_retries times, then fails with a message saying why instead of looping.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

struct DirichletOptions {
  double alpha = 0.5;              // concentration; > 0
  int64_t min_partition_size = 10; // fewest samples any client may get
  int max_retries = 100;           // whole re-draws before giving up
  // The common "balance" trick: a client already holding N / num_clients samples gets no share
  // of later classes, which keeps client sizes from running away.
  bool balance = true;
};

class DirichletPartitioner final : public Partitioner {
 public:
  explicit DirichletPartitioner(DirichletOptions options) : options_(options) {}
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  static PartitionerRegistry::Entry registry_entry();

 private:
  DirichletOptions options_;
};

}  // namespace flotilla
