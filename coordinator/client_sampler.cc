#include "coordinator/client_sampler.h"

#include <algorithm>

#include "partitioners/random.h"

namespace flotilla {

std::vector<int> sample_clients(const std::vector<int>& candidates, int count, uint64_t seed, int round) {
  std::vector<int> pool = candidates;
  std::sort(pool.begin(), pool.end());
  if (count >= static_cast<int>(pool.size())) return pool;
  Rng rng(derive_seed(seed, 0x73616d70ULL + static_cast<uint64_t>(round)));
  rng.shuffle(pool);
  pool.resize(static_cast<size_t>(std::max(count, 0)));
  std::sort(pool.begin(), pool.end());
  return pool;
}

std::vector<int> poisson_sample_clients(const std::vector<int>& candidates, double rate, uint64_t seed, int round) {
  std::vector<int> pool = candidates;
  std::sort(pool.begin(), pool.end());
  Rng rng(derive_seed(seed, 0x706f6973ULL + static_cast<uint64_t>(round)));
  std::vector<int> picked;
  for (int id : pool)
    if (rng.uniform() < rate) picked.push_back(id);
  return picked;
}

}  // namespace flotilla
