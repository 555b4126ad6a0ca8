// The accountant against published values: Google's dp_accounting documents the RDP of the
// Poisson-subsampled Gaussian and its (epsilon, delta) conversion in its tests
// (python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py); the unsampled Gaussian
// has a closed form (RDP alpha / (2 sigma^2)) and an exact privacy curve (Balle and Wang 2018) that
// any sound conversion must stay above.
#include "privacy/rdp_accountant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace flotilla {
namespace {

double relative_error(double got, double want) { return std::abs(got - want) / std::abs(want); }

TEST(RdpAccountantTest, MatchesDpAccountingsDocumentedSubsampledGaussian) {
  // q = 0.01, sigma = 2.5, 50 releases, orders 1.5 (fractional series), 2.5, 5, 50 and 100 (integer
  // expansion); dp_accounting's expected values, which it checks to rtol 1e-4.
  const std::vector<double> orders = {1.5, 2.5, 5, 50, 100};
  const std::vector<double> published = {6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02, 1.67416308e02};
  RdpAccountant accountant(orders);
  accountant.compose(0.01, 2.5, 50);
  for (size_t i = 0; i < orders.size(); ++i)
    EXPECT_LT(relative_error(accountant.rdp()[i], published[i]), 1e-4) << "order " << orders[i];
  EXPECT_EQ(poisson_gaussian_rdp(0.01, 2.5, std::numeric_limits<double>::infinity()),
            std::numeric_limits<double>::infinity());
}

TEST(RdpAccountantTest, ConvertsPureDpAsPublished) {
  // A constant RDP of 1.1 at orders 2..32 is (1.32783806176, 1e-5)-DP at order 32 (dp_accounting).
  std::vector<double> orders, rdp;
  for (int order = 2; order <= 32; ++order) {
    orders.push_back(order);
    rdp.push_back(1.1);
  }
  const EpsilonAtOrder result = epsilon_from_rdp(orders, rdp, 1e-5);
  EXPECT_NEAR(result.epsilon, 1.32783806176, 1e-9);
  EXPECT_EQ(result.order, 32);
}

TEST(RdpAccountantTest, UnsampledGaussianHasItsClosedForm) {
  for (double sigma : {0.5, 1.0, 2.71828, 10.0})
    for (double alpha : {1.5, 2.0, 3.14159, 32.0})
      EXPECT_DOUBLE_EQ(poisson_gaussian_rdp(1.0, sigma, alpha), alpha / (2 * sigma * sigma));
  // dp_accounting: sigma = 4.530877117 makes the Gaussian exactly (1, 1e-6)-DP through RDP over
  // orders 1.001..99.999.
  std::vector<double> orders;
  for (int i = 1001; i < 100000; ++i) orders.push_back(0.001 * i);
  RdpAccountant accountant(orders);
  accountant.compose(1.0, 4.530877117);
  EXPECT_NEAR(accountant.epsilon(1e-6), 1.0, 1e-4);
}

// delta(epsilon) of the Gaussian mechanism with sensitivity 1, exactly (Balle and Wang 2018, Theorem 8).
double exact_gaussian_delta(double sigma, double epsilon) {
  auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  return phi(1 / (2 * sigma) - epsilon * sigma) - std::exp(epsilon) * phi(-1 / (2 * sigma) - epsilon * sigma);
}

TEST(RdpAccountantTest, GaussianEpsilonIsSoundAndNearTheExactCurve) {
  // The RDP conversion is an upper bound on the true epsilon: at the epsilon it reports, the exact
  // delta is at most the asked-for one. It is also not loose: at 80% of it the exact delta is over.
  for (double sigma : {0.8, 1.0, 2.0, 5.0}) {
    RdpAccountant accountant;
    accountant.compose(1.0, sigma);
    const double epsilon = accountant.epsilon(1e-5);
    EXPECT_LE(exact_gaussian_delta(sigma, epsilon), 1e-5) << "sigma " << sigma;
    EXPECT_GT(exact_gaussian_delta(sigma, 0.8 * epsilon), 1e-5) << "sigma " << sigma;
  }
}

// A_alpha = E_{z ~ N(0, sigma^2)} [(1 - q + q exp((2z - 1) / (2 sigma^2)))^alpha], by the trapezoid
// rule on a fine grid: an independent check of the fractional-order series.
double log_a_by_integration(double q, double sigma, double alpha) {
  const double lo = -40 * sigma, hi = 40 * sigma + alpha;
  const int steps = 400000;
  const double h = (hi - lo) / steps;
  long double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const double z = lo + i * h;
    const double log_density = -z * z / (2 * sigma * sigma) - std::log(sigma * std::sqrt(2 * M_PI));
    const double log_ratio = std::log1p(q * std::expm1((2 * z - 1) / (2 * sigma * sigma)));
    const long double term = std::exp(static_cast<long double>(log_density + alpha * log_ratio));
    sum += (i == 0 || i == steps) ? term / 2 : term;
  }
  return std::log(static_cast<double>(sum * h));
}

TEST(RdpAccountantTest, FractionalOrdersBoundTheIntegralFromAboveAndClosely) {
  // The fractional series counts every term positive: never below the true RDP, and close to it.
  struct Case {
    double q, sigma, alpha;
  };
  for (const Case& c :
       {Case{1e-3, 1.0, 2.5}, Case{0.01, 2.5, 1.5}, Case{0.1, 1.0, 7.3}, Case{0.05, 0.8, 3.7}, Case{0.5, 2.0, 10.5}}) {
    const double rdp = poisson_gaussian_rdp(c.q, c.sigma, c.alpha);
    const double integrated = log_a_by_integration(c.q, c.sigma, c.alpha) / (c.alpha - 1);
    EXPECT_GE(rdp, integrated * (1 - 1e-6)) << "q " << c.q << " sigma " << c.sigma << " alpha " << c.alpha;
    EXPECT_LT(relative_error(rdp, integrated), 0.05) << "q " << c.q << " sigma " << c.sigma << " alpha " << c.alpha;
  }
}

TEST(RdpAccountantTest, IntegerOrdersAgreeWithNumericalIntegration) {
  for (double alpha : {2.0, 3.0, 8.0, 20.0}) {
    const double rdp = poisson_gaussian_rdp(0.02, 1.5, alpha);
    const double integrated = log_a_by_integration(0.02, 1.5, alpha) / (alpha - 1);
    EXPECT_LT(relative_error(rdp, integrated), 1e-4) << "alpha " << alpha;
  }
}

TEST(RdpAccountantTest, EpsilonGrowsWithRoundsAndSamplingAndShrinksWithNoise) {
  auto epsilon = [](double q, double sigma, int rounds) {
    RdpAccountant accountant;
    accountant.compose(q, sigma, rounds);
    return accountant.epsilon(1e-5);
  };
  EXPECT_LT(epsilon(0.1, 1.0, 10), epsilon(0.1, 1.0, 100));
  EXPECT_LT(epsilon(0.01, 1.0, 100), epsilon(0.1, 1.0, 100));
  EXPECT_LT(epsilon(0.1, 2.0, 100), epsilon(0.1, 1.0, 100));
  // Composing one round at a time is composing them all at once.
  RdpAccountant stepwise;
  for (int r = 0; r < 100; ++r) stepwise.compose(0.1, 1.0);
  EXPECT_NEAR(stepwise.epsilon(1e-5), epsilon(0.1, 1.0, 100), 1e-9);
}

TEST(RdpAccountantTest, EdgeCases) {
  RdpAccountant none;
  EXPECT_EQ(none.epsilon(1e-5), 0.0);  // nothing released yet
  EXPECT_EQ(poisson_gaussian_rdp(0.0, 1.0, 2.0), 0.0);
  EXPECT_EQ(poisson_gaussian_rdp(0.1, 0.0, 2.0), std::numeric_limits<double>::infinity());
  RdpAccountant no_noise;
  no_noise.compose(0.1, 0.0);
  EXPECT_EQ(no_noise.epsilon(1e-5), std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace flotilla
