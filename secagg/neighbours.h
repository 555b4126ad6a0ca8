// Who masks with whom. SecAgg (Bonawitz et al. 2017) masks every pair of clients: the complete
// graph, O(n) keys and shares per client. SecAgg+ (Bell et al. 2020) masks along a random k-regular
// graph instead: each client exchanges keys and shares with k neighbours only, so its cost grows
// with k = O(log n), and the coordinator still learns only sums as long as it cannot isolate a
// client from its honest neighbours. The graph is the Harary graph on a random cycle of the
// clients: each is joined to the k/2 nearest on either side (k rounded up to even).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace flotilla::secagg {

// Neighbours (ascending) of every id of `ids`: every other id when k >= ids.size() - 1 (complete
// SecAgg), else the Harary graph of degree k (even; an odd k is rounded up) on the cycle that
// `seed` shuffles the ids into.
std::map<int, std::vector<int>> neighbour_graph(std::vector<int> ids, int k, uint64_t seed);

}  // namespace flotilla::secagg
