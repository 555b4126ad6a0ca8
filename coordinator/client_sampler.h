// Seeded client sampling: the same (seed, round, candidates) always picks the same clients.
#pragma once

#include <cstdint>
#include <vector>

namespace flotilla {

// Picks `count` of `candidates` uniformly without replacement; returns them ascending.
std::vector<int> sample_clients(const std::vector<int>& candidates, int count, uint64_t seed, int round);

}  // namespace flotilla
