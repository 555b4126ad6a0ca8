#include "secagg/neighbours.h"

#include <algorithm>
#include <set>

#include "partitioners/random.h"

namespace flotilla::secagg {

std::map<int, std::vector<int>> neighbour_graph(std::vector<int> ids, int k, uint64_t seed) {
  std::sort(ids.begin(), ids.end());
  const int n = static_cast<int>(ids.size());
  std::map<int, std::vector<int>> graph;
  if (k >= n - 1) {
    for (int id : ids) {
      auto& mine = graph[id];
      for (int other : ids)
        if (other != id) mine.push_back(other);
    }
    return graph;
  }
  Rng rng(derive_seed(seed, 0x48415259ULL));  // "HARY"
  rng.shuffle(ids);
  const int half = (k + 1) / 2;
  std::map<int, std::set<int>> sets;
  for (int i = 0; i < n; ++i) {
    sets[ids[static_cast<size_t>(i)]];
    for (int d = 1; d <= half; ++d) {
      const int a = ids[static_cast<size_t>(i)], b = ids[static_cast<size_t>((i + d) % n)];
      sets[a].insert(b);
      sets[b].insert(a);
    }
  }
  for (auto& [id, set] : sets) graph[id] = std::vector<int>(set.begin(), set.end());
  return graph;
}

}  // namespace flotilla::secagg
