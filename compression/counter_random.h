// Counter-based uniform draws: element i of a tensor gets its own draw from (seed, i), so a
// stochastic codec's output depends only on the seed, not on the order or the threads that
// compute it, and is the same on every machine (no std:: distributions, which differ between
// standard libraries).
#pragma once

#include <cstdint>

namespace flotilla {

// SplitMix64's output function (Steele et al. 2014): a bijective mix of a 64-bit word.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The i-th output of SplitMix64 started at `seed`: independent-looking seeds for streams (one per
// tensor) and draws (one per element).
inline uint64_t counter_bits(uint64_t seed, uint64_t i) { return mix64(seed + 0x9e3779b97f4a7c15ULL * (i + 1)); }

// Uniform in [0, 1) with 53 random bits.
inline double counter_uniform(uint64_t seed, uint64_t i) {
  return static_cast<double>(counter_bits(seed, i) >> 11) * 0x1.0p-53;
}

}  // namespace flotilla
