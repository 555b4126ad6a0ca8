// Rng: a portable, deterministic random source. std::mt19937_64 is specified bit for bit, but the
// std:: distributions and std::shuffle are not (they differ between standard libraries), and every
// client must compute the same partition as the coordinator, possibly on another machine. So every
// distribution here is written out from the engine's raw 64-bit words.
// Not thread-safe: one Rng per thread (derive_seed gives each its own stream).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace flotilla {

// Mixes a seed and a stream number into an independent seed (splitmix64 finaliser), so that
// e.g. client sampling in round r and the partition never share a stream.
uint64_t derive_seed(uint64_t seed, uint64_t stream);

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), without modulo bias. n > 0 (checked).
  uint64_t uniform_int(uint64_t n);
  // Standard normal (Marsaglia polar method).
  double normal();
  // Gamma(shape, 1) (Marsaglia and Tsang 2000; shape < 1 boosted with u^(1/shape)).
  // shape finite and > 0 (checked).
  double gamma(double shape);
  // A draw from Dirichlet(alpha[0], ..., alpha[k-1]); every alpha finite and > 0, k >= 1 (checked).
  // Sums to 1. Components below 1 are drawn in log space so that tiny alphas (0.001) do not
  // underflow every component to zero.
  std::vector<double> dirichlet(std::span<const double> alpha);
  // The symmetric case: Dirichlet(alpha, ..., alpha) over k categories.
  std::vector<double> dirichlet(double alpha, int k);

  // Fisher-Yates with unbiased bounded integers: the same permutation on every platform.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[uniform_int(i)]);
  }

 private:
  // log(Gamma(shape, 1)); for shape < 1 it never underflows (log u / shape stays finite).
  double log_gamma_variate(double shape);

  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace flotilla
