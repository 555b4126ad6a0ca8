// Quantity skew: client sizes are unequal, labels are not ("quantity skew" in NIID-Bench, Li et
// al. 2022). Client shares q ~ Dir(alpha) over the clients; every client first gets
// m = max(min_partition_size, 1) samples and the other N - num_clients * m are cut by q at
// floor(cumsum(q) * (N - num_clients * m)) (the last client takes the rest), so client k holds
// m + about q_k * (N - num_clients * m). The samples themselves are dealt from one seeded shuffle
// of all indices, so each client's labels are an IID draw from the whole set.
//
// NIID-Bench instead re-draws q until every client reaches the minimum, which can take very many
// draws at small alpha; giving the minimum first always finishes in one draw and fails only when
// num_clients * m > N. Small alpha: a few clients hold most samples and many hold exactly m;
// large alpha: near-equal sizes. Every index is used exactly once.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

struct QuantitySkewOptions {
  double alpha = 0.5;               // concentration of the size shares; finite and > 0
  int64_t min_partition_size = 10;  // samples every client gets first; >= 0 (a client always gets >= 1)
};

// InvalidArgument naming the first option out of range.
Status check_quantity_skew_options(const QuantitySkewOptions& options);

// Stateless after construction: partition() may be called from several threads.
class QuantitySkewPartitioner final : public Partitioner {
 public:
  explicit QuantitySkewPartitioner(QuantitySkewOptions options) : options_(options) {}
  // Also InvalidArgument when the options are out of range or num_clients * min_partition_size
  // exceeds the samples.
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "quantity_skew" with options alpha, min_partition_size.
  static PartitionerRegistry::Entry registry_entry();

 private:
  QuantitySkewOptions options_;
};

}  // namespace flotilla
