#include "privacy/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flotilla {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)) without overflow.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double high = std::max(a, b);
  return high + std::log1p(std::exp(std::min(a, b) - high));
}

// log(erfc(x)), also where erfc(x) underflows (x beyond ~26): there the asymptotic expansion
// erfc(x) ~ exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6)).
double log_erfc(double x) {
  if (x < 25.0) return std::log(std::erfc(x));
  const double inv2 = 1.0 / (x * x);
  const double series = 1.0 - 0.5 * inv2 + 0.75 * inv2 * inv2 - 1.875 * inv2 * inv2 * inv2;
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(series);
}

// log A_alpha for integer alpha: the binomial expansion of E[(1 - q + q e^{(2z-1)/(2 sigma^2)})^alpha]
// over z ~ N(0, sigma^2), term by term in log space.
double log_a_integer(double q, double sigma, int alpha) {
  double log_a = -kInf;
  double log_binomial = 0.0;  // log C(alpha, k)
  for (int k = 0; k <= alpha; ++k) {
    if (k > 0) log_binomial += std::log(static_cast<double>(alpha - k + 1)) - std::log(static_cast<double>(k));
    const double log_term = log_binomial + k * std::log(q) + (alpha - k) * std::log1p(-q) +
                            (static_cast<double>(k) * k - k) / (2.0 * sigma * sigma);
    log_a = log_add(log_a, log_term);
  }
  return log_a;
}

// log A_alpha for fractional alpha: the two series of Mironov, Talwar and Zhang (2019), section
// 3.3, split at z0 where the two Gaussians' densities cross. Past alpha the generalised binomial
// coefficients alternate in sign; like Google's dp_accounting, every term is added with its
// magnitude, which bounds A_alpha from above (by a few percent at orders below 2, where the
// alternating terms matter most), so the epsilon reported stays sound. Summed until both terms
// decrease and fall e^30 below the total.
double log_a_fractional(double q, double sigma, double alpha) {
  const double z0 = sigma * sigma * std::log(1.0 / q - 1.0) + 0.5;
  const double sqrt2_sigma = std::sqrt(2.0) * sigma;
  double log_a0 = -kInf, log_a1 = -kInf;
  double last_s0 = -kInf, last_s1 = -kInf;
  double log_coefficient = 0.0;  // log |C(alpha, i)|
  for (int i = 0; i < 1000; ++i) {
    if (i > 0) log_coefficient += std::log(std::abs((alpha - (i - 1)) / i));  // |C(alpha, i)| from |C(alpha, i - 1)|
    const double j = alpha - i;
    const double log_t0 = log_coefficient + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coefficient + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / sqrt2_sigma);
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / sqrt2_sigma);
    const double log_s0 = log_t0 + (static_cast<double>(i) * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    log_a0 = log_add(log_a0, log_s0);
    log_a1 = log_add(log_a1, log_s1);
    const double total = log_add(log_a0, log_a1);
    if (log_s0 < last_s0 && log_s1 < last_s1 && std::max(log_s0, log_s1) < total - 30) return total;
    last_s0 = log_s0;
    last_s1 = log_s1;
  }
  return kInf;  // did not converge: this order says nothing (epsilon_from_rdp skips it)
}

}  // namespace

double poisson_gaussian_rdp(double q, double sigma, double alpha) {
  if (q <= 0) return 0.0;
  if (sigma <= 0 || std::isinf(alpha)) return kInf;
  if (q >= 1) return alpha / (2 * sigma * sigma);  // the Gaussian mechanism itself
  const bool integer = alpha == std::floor(alpha) && alpha < 1e6;
  const double log_a = integer ? log_a_integer(q, sigma, static_cast<int>(alpha)) : log_a_fractional(q, sigma, alpha);
  return log_a / (alpha - 1);
}

EpsilonAtOrder epsilon_from_rdp(std::span<const double> orders, std::span<const double> rdp, double delta) {
  EpsilonAtOrder best{kInf, 0.0};
  for (size_t i = 0; i < orders.size() && i < rdp.size(); ++i) {
    const double alpha = orders[i];
    if (!(alpha > 1) || std::isinf(rdp[i]) || std::isnan(rdp[i])) continue;
    // Canonne, Kamath and Steinke (2020), Proposition 12 in the form dp_accounting uses.
    const double epsilon = rdp[i] + std::log1p(-1.0 / alpha) - (std::log(delta) + std::log(alpha)) / (alpha - 1);
    if (epsilon < best.epsilon) best = {epsilon, alpha};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

std::vector<double> default_rdp_orders() {
  std::vector<double> orders;
  for (int x = 1; x < 100; ++x) orders.push_back(1.0 + x / 10.0);
  for (int order = 11; order < 64; ++order) orders.push_back(order);
  for (double order : {128.0, 256.0, 512.0}) orders.push_back(order);
  return orders;
}

RdpAccountant::RdpAccountant(std::vector<double> orders) : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {}

void RdpAccountant::compose(double q, double sigma, int rounds) {
  if (rounds <= 0) return;
  for (size_t i = 0; i < orders_.size(); ++i) rdp_[i] += rounds * poisson_gaussian_rdp(q, sigma, orders_[i]);
}

double RdpAccountant::epsilon(double delta) const { return epsilon_at_order(delta).epsilon; }

EpsilonAtOrder RdpAccountant::epsilon_at_order(double delta) const {
  const bool nothing_yet = std::all_of(rdp_.begin(), rdp_.end(), [](double r) { return r == 0.0; });
  if (nothing_yet) return {0.0, 0.0};
  return epsilon_from_rdp(orders_, rdp_, delta);
}

}  // namespace flotilla
