// Logical client ids as text: "3", "0-49", "0,3,5-7". The client's --client-ids and the
// coordinator's allowlist (transport/allowlist.h) both read them here.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

// Sorted, without duplicates. InvalidArgument naming the bad piece for anything else
// (negative ids, reversed ranges, junk).
StatusOr<std::vector<int>> parse_client_ids(const std::string& text);

// The shortest text parse_client_ids reads back as `ids` (sorted, unique): {0,1,2,5} -> "0-2,5".
std::string format_client_ids(const std::vector<int>& ids);

}  // namespace flotilla
