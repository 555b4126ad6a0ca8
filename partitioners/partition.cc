#include "core/check.h"
#include "partitioners/partitioner.h"

namespace flotilla {

std::vector<std::vector<int64_t>> Partition::class_counts(std::span<const int64_t> labels, int64_t num_classes) const {
  FLOTILLA_CHECK(num_classes >= 0) << "num_classes " << num_classes;
  std::vector<std::vector<int64_t>> counts(client_indices.size(),
                                           std::vector<int64_t>(static_cast<size_t>(num_classes), 0));
  for (size_t k = 0; k < client_indices.size(); ++k) {
    for (int64_t i : client_indices[k]) {
      // The partition was computed from these labels, which the partitioner validated: a miss
      // here means the caller paired a partition with another dataset's labels.
      FLOTILLA_CHECK(i >= 0 && static_cast<size_t>(i) < labels.size()) << "index " << i << " of client " << k;
      const int64_t c = labels[static_cast<size_t>(i)];
      FLOTILLA_CHECK(c >= 0 && c < num_classes) << "label " << c << " of sample " << i;
      ++counts[k][static_cast<size_t>(c)];
    }
  }
  return counts;
}

}  // namespace flotilla
