// A number for a JSON document. NaN and infinities are not JSON: they become null, which is how
// metrics.jsonl, partition.json and the live view's API say "not measured" (a round --eval-every
// skips, a client with no samples).
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

namespace flotilla {

inline nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace flotilla
