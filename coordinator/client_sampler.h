// Seeded client sampling: the same (seed, round, candidates) always picks the same clients.
#pragma once

#include <cstdint>
#include <vector>

namespace flotilla {

// Picks `count` of `candidates` uniformly without replacement; returns them ascending.
std::vector<int> sample_clients(const std::vector<int>& candidates, int count, uint64_t seed, int round);

// Poisson sampling: each candidate independently with probability `rate` (0..1); returns them
// ascending, possibly none. What differentially private rounds use: the accountant's analysis
// (privacy/rdp_accountant.h) assumes it, and a secret seed keeps who was sampled secret.
std::vector<int> poisson_sample_clients(const std::vector<int>& candidates, double rate, uint64_t seed, int round);

}  // namespace flotilla
