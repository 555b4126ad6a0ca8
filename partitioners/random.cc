#include "partitioners/random.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace flotilla {

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rng::uniform_int(uint64_t n) {
  FLOTILLA_CHECK(n > 0) << "uniform_int(0)";
  // Reject the lowest (2^64 mod n) words so every residue is equally likely (Lemire's threshold).
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = engine_();
    if (r >= threshold) return r % n;
  }
}

double Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * factor;
  has_spare_normal_ = true;
  return u * factor;
}

double Rng::gamma(double shape) {
  // A NaN or infinite shape would make the rejection loop below spin forever.
  FLOTILLA_CHECK(std::isfinite(shape) && shape > 0) << "gamma shape " << shape;
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a)
    double u;
    do u = uniform();
    while (u == 0.0);
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Rng::log_gamma_variate(double shape) {
  if (shape >= 1.0) return std::log(gamma(shape));
  // Same draws, in the same order, as gamma(shape): u first, then Gamma(shape + 1).
  FLOTILLA_CHECK(std::isfinite(shape) && shape > 0) << "gamma shape " << shape;
  double u;
  do u = uniform();
  while (u == 0.0);
  return std::log(gamma(shape + 1.0)) + std::log(u) / shape;
}

std::vector<double> Rng::dirichlet(std::span<const double> alpha) {
  FLOTILLA_CHECK(!alpha.empty()) << "dirichlet over no categories";
  std::vector<double> p(alpha.size());
  for (size_t i = 0; i < alpha.size(); ++i) p[i] = log_gamma_variate(alpha[i]);
  // Normalise in log space: exp(log g_i - max) keeps the largest component at 1, so the sum is
  // >= 1 and the ratios survive even when every g_i itself would underflow.
  const double top = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (auto& x : p) sum += (x = std::exp(x - top));
  for (auto& x : p) x /= sum;
  return p;
}

std::vector<double> Rng::dirichlet(double alpha, int k) {
  FLOTILLA_CHECK(k >= 1) << "dirichlet over " << k << " categories";
  const std::vector<double> alphas(static_cast<size_t>(k), alpha);
  return dirichlet(alphas);
}

}  // namespace flotilla
