#include "partitioners/checks.h"

#include <string>

namespace flotilla {

Status check_partition_arguments(std::span<const int64_t> labels, int64_t num_classes, int num_clients) {
  if (num_classes < 1) return invalid_argument_error("number of classes must be >= 1, got " + std::to_string(num_classes));
  if (num_clients < 1) return invalid_argument_error("number of clients must be >= 1, got " + std::to_string(num_clients));
  if (static_cast<size_t>(num_clients) > labels.size())
    return invalid_argument_error(std::to_string(num_clients) + " clients but only " + std::to_string(labels.size()) +
                                  " samples: every client needs at least one");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      return invalid_argument_error("label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                                    " is outside [0, " + std::to_string(num_classes) + ")");
  return Status();
}

}  // namespace flotilla
