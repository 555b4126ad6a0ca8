// flotilla-dp: what a differentially private run (--dp, docs/privacy.md) will spend, before it
// runs, from the same accountant the coordinator uses (privacy/rdp_accountant.h).
//
//   flotilla-dp epsilon --sampling-rate 0.1 --noise-multiplier 1.1 --rounds 200 [--delta 1e-5]
//   flotilla-dp noise   --sampling-rate 0.1 --epsilon 3 --rounds 200 [--delta 1e-5]
//
// "epsilon" prints the run's epsilon after that many rounds of central DP (Poisson sampling at
// the rate, as --fraction does under --dp central); "noise" prints the smallest noise multiplier
// that keeps it within a target epsilon. Bad flags exit 2.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "privacy/rdp_accountant.h"
#include "tools/command_line.h"

namespace {

using namespace flotilla;

double epsilon_of(double q, double z, int rounds, double delta) {
  RdpAccountant accountant;
  accountant.compose(q, z, rounds);
  return accountant.epsilon(delta);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("flotilla-dp: the epsilon a differentially private run spends, or the noise a target needs");
  app.require_subcommand(1);
  double q = 0, z = 0, target = 0, delta = 1e-5;
  int rounds = 0;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--sampling-rate", q, "each client's chance to take part in a round (--fraction)")
        ->required()
        ->check(CLI::Range(0.0, 1.0));
    sub->add_option("--rounds", rounds, "rounds of the run")->required()->check(CLI::PositiveNumber);
    sub->add_option("--delta", delta, "delta of (epsilon, delta)")
        ->capture_default_str()
        ->check(CLI::Range(1e-300, 0.999999));
  };
  CLI::App* eps = app.add_subcommand("epsilon", "epsilon after the rounds");
  common(eps);
  eps->add_option("--noise-multiplier", z, "z: noise standard deviation in clip norms")
      ->required()
      ->check(CLI::PositiveNumber);
  CLI::App* noise = app.add_subcommand("noise", "the smallest noise multiplier within a target epsilon");
  common(noise);
  noise->add_option("--epsilon", target, "target epsilon")->required()->check(CLI::PositiveNumber);
  if (auto stop = parse_command_line(app, argc, argv)) return *stop;
  if (eps->parsed()) {
    RdpAccountant accountant;
    accountant.compose(q, z, rounds);
    const EpsilonAtOrder result = accountant.epsilon_at_order(delta);
    std::printf("epsilon %.6g at delta %g after %d rounds (sampling rate %g, noise multiplier %g; RDP order %g)\n",
                result.epsilon, delta, rounds, q, z, result.order);
    return 0;
  }
  // epsilon falls as z grows: bisect on a log scale between a z that overspends and one that does not.
  double low = 0.05, high = 1000.0;
  if (epsilon_of(q, high, rounds, delta) > target) {
    std::cerr << "error: even noise multiplier " << high << " spends more than epsilon " << target << "\n";
    return 1;
  }
  if (epsilon_of(q, low, rounds, delta) <= target) high = low;
  for (int i = 0; i < 60 && high / low > 1 + 1e-6; ++i) {
    const double mid = std::sqrt(low * high);
    (epsilon_of(q, mid, rounds, delta) > target ? low : high) = mid;
  }
  // Printed rounded up, so that the printed value itself meets the target.
  const double shown = std::ceil(high * 1e5) / 1e5;
  std::printf("noise multiplier %.5f gives epsilon %.6g at delta %g after %d rounds (sampling rate %g)\n", shown,
              epsilon_of(q, shown, rounds, delta), delta, rounds, q);
  return 0;
}
