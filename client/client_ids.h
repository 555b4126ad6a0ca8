// Parses the logical client ids a process hosts: "3", "0-49", "0,3,5-7".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

// Sorted, without duplicates. InvalidArgument naming the bad piece for anything else
// (negative ids, reversed ranges, junk).
StatusOr<std::vector<int>> parse_client_ids(const std::string& text);

}  // namespace flotilla
