// Typed reads of aggregator options with range checks, so each factory states its bounds in one
// line and every error names the option.
#pragma once

#include <string>

#include "core/options.h"

namespace flotilla {

// > 0 and finite.
StatusOr<double> read_positive(const Options& options, const std::string& key);
// In [0, 1).
StatusOr<double> read_unit_interval(const Options& options, const std::string& key);
// An integer >= minimum.
StatusOr<int64_t> read_int_at_least(const Options& options, const std::string& key, int64_t minimum);

}  // namespace flotilla
