// Rényi-DP accounting of the Poisson-subsampled Gaussian mechanism, the mechanism of DP-FedAvg
// (McMahan et al. 2018) as Flotilla runs it: every round each client takes part independently
// with probability q (Poisson sampling, privacy/poisson_sampling.h), its clipped update has L2
// sensitivity 1 in units of the clip norm, and the sum carries Gaussian noise of standard
// deviation sigma (the noise multiplier) in the same units. Neighbouring federations differ by
// adding or removing one client's whole data set (client-level DP).
//
// The RDP of one round at order alpha is computed as Mironov, Talwar and Zhang (2019), "Rényi
// Differential Privacy of the Sampled Gaussian Mechanism", section 3.3: exactly for integer
// orders, by the erfc series for fractional ones (each term counted positive, an upper bound, as
// Google's dp_accounting computes it). Rounds compose by adding RDP, and
// the total converts to (epsilon, delta) by the bound of Canonne, Kamath and Steinke (2020), the
// conversion Google's dp_accounting and Opacus use. tests/privacy/rdp_accountant_test.cc checks it
// against dp_accounting's documented values and the unsampled Gaussian's closed form.
#pragma once

#include <span>
#include <vector>

namespace flotilla {

// RDP at order `alpha` (> 1, may be +inf) of one release of the Gaussian mechanism with noise
// multiplier `sigma` (>= 0) on a Poisson sample of rate `q` (0..1). 0 when q == 0; +inf when
// sigma == 0 (and q > 0) or alpha is +inf.
double poisson_gaussian_rdp(double q, double sigma, double alpha);

// The smallest epsilon over `orders` such that mechanisms with RDP `rdp[i]` at `orders[i]` are
// (epsilon, delta)-DP, with the order that gives it. Orders must be > 1; rdp >= 0.
struct EpsilonAtOrder {
  double epsilon = 0.0;
  double order = 0.0;
};
EpsilonAtOrder epsilon_from_rdp(std::span<const double> orders, std::span<const double> rdp, double delta);

// The orders Flotilla's accountant tries: 1.1 to 10.9 by 0.1, then 11 to 63, then 128, 256, 512
// (dense where small budgets are decided, sparse where large ones are).
std::vector<double> default_rdp_orders();

// Accumulates rounds of the Poisson-subsampled Gaussian mechanism and answers epsilon for a delta.
class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<double> orders = default_rdp_orders());

  // Adds `rounds` releases with sampling rate q and noise multiplier sigma.
  void compose(double q, double sigma, int rounds = 1);
  // The run's epsilon so far for `delta` (0 before any round).
  double epsilon(double delta) const;
  EpsilonAtOrder epsilon_at_order(double delta) const;

  const std::vector<double>& orders() const { return orders_; }
  const std::vector<double>& rdp() const { return rdp_; }

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;  // at each order, summed over the composed rounds
};

}  // namespace flotilla
