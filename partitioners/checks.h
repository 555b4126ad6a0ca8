// Argument checks every partitioner shares, so that all of them reject bad input the same way.
#pragma once

#include <span>

#include "core/status.h"

namespace flotilla {

// InvalidArgument when num_clients is not in [1, labels.size()] or a label is outside
// [0, num_classes).
Status check_partition_arguments(std::span<const int64_t> labels, int64_t num_classes, int num_clients);

}  // namespace flotilla
