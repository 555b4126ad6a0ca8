// IID: a uniformly random split into near-equal parts (sizes differ by at most one); labels are
// only validated, not used. Stateless: partition() may be called from several threads.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

class IidPartitioner final : public Partitioner {
 public:
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "iid", no options.
  static PartitionerRegistry::Entry registry_entry();
};

}  // namespace flotilla
