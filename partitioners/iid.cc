#include "partitioners/iid.h"

#include <algorithm>
#include <numeric>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {

StatusOr<Partition> IidPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                              uint64_t seed) const {
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  std::vector<int64_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(derive_seed(seed, 1));  // stream 1: the IID split (Dirichlet uses 2)
  rng.shuffle(order);
  Partition p;
  p.client_indices.resize(static_cast<size_t>(num_clients));
  const size_t n = order.size(), k = static_cast<size_t>(num_clients);
  size_t begin = 0;
  for (size_t c = 0; c < k; ++c) {
    const size_t size = n / k + (c < n % k ? 1 : 0);
    p.client_indices[c].assign(order.begin() + static_cast<std::ptrdiff_t>(begin),
                               order.begin() + static_cast<std::ptrdiff_t>(begin + size));
    std::sort(p.client_indices[c].begin(), p.client_indices[c].end());
    begin += size;
  }
  return p;
}

PartitionerRegistry::Entry IidPartitioner::registry_entry() {
  return {"iid", "uniformly random split into near-equal parts", {}, [](const Options&) {
            return StatusOr<std::unique_ptr<Partitioner>>(std::unique_ptr<Partitioner>(new IidPartitioner()));
          }};
}

}  // namespace flotilla
