// Argument checks every partitioner shares, so that all of them reject bad input the same way.
#pragma once

#include <span>
#include <string>

#include "core/status.h"

namespace flotilla {

// InvalidArgument when num_clients is not in [1, labels.size()] or a label is outside
// [0, num_classes).
Status check_partition_arguments(std::span<const int64_t> labels, int64_t num_classes, int num_clients);

// InvalidArgument "<name> must be a finite number > 0, got <value>" unless value is; for the
// Dirichlet concentrations.
Status check_concentration(const std::string& name, double value);

// A number for an error message: "0.5", "1000", "1e-05" (shortest of the usual forms, unlike
// std::to_string's six fixed decimals).
std::string format_number(double x);

}  // namespace flotilla
