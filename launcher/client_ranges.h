// Splits logical clients 0..N-1 over P client processes as contiguous id ranges, the form
// flotilla-client takes in --client-ids A-B.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

// The logical clients first..last (inclusive) hosted by one process.
struct ClientRange {
  int first = 0;
  int last = 0;

  int size() const { return last - first + 1; }
  // "A-B", or "A" when the range holds one client: the text for --client-ids.
  std::string to_string() const;
  bool operator==(const ClientRange&) const = default;
};

// P ranges covering 0..N-1 in order, sizes differing by at most one (the first N % P ranges
// get the extra client), so the processes carry equal training load: N=10, P=3 gives 0-3, 4-6,
// 7-9. InvalidArgument unless N >= 1 and 1 <= P <= N (a process without clients would only
// wait for a coordinator that never talks to it).
StatusOr<std::vector<ClientRange>> split_client_ranges(int num_clients, int num_processes);

}  // namespace flotilla
