#include "partitioners/partitioner.h"

namespace flotilla {

std::vector<std::vector<int64_t>> Partition::class_counts(std::span<const int64_t> labels, int64_t num_classes) const {
  std::vector<std::vector<int64_t>> counts(client_indices.size(), std::vector<int64_t>(num_classes, 0));
  for (size_t k = 0; k < client_indices.size(); ++k)
    for (int64_t i : client_indices[k]) ++counts[k][labels[i]];
  return counts;
}

}  // namespace flotilla
