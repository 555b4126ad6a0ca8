#include "partitioners/checks.h"

#include <cmath>
#include <sstream>

namespace flotilla {

Status check_partition_arguments(std::span<const int64_t> labels, int64_t num_classes, int num_clients) {
  if (num_classes < 1)
    return invalid_argument_error("number of classes must be >= 1, got " + std::to_string(num_classes));
  if (num_clients < 1)
    return invalid_argument_error("number of clients must be >= 1, got " + std::to_string(num_clients));
  if (static_cast<size_t>(num_clients) > labels.size())
    return invalid_argument_error(std::to_string(num_clients) + " clients but only " + std::to_string(labels.size()) +
                                  " samples: every client needs at least one");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      return invalid_argument_error("label " + std::to_string(labels[i]) + " of sample " + std::to_string(i) +
                                    " is outside [0, " + std::to_string(num_classes) + ")");
  return Status();
}

Status check_concentration(const std::string& name, double value) {
  if (!std::isfinite(value) || value <= 0)
    return invalid_argument_error(name + " must be a finite number > 0, got " + format_number(value));
  return Status();
}

std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

}  // namespace flotilla
