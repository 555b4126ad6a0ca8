// Prints how far federated least squares is from the closed-form solution, round by round.
//   least_squares [aggregator] [local_steps] [rounds]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "least_squares.h"

int main(int argc, char** argv) {
  using namespace flotilla;
  AggregatorRegistry registry("aggregator");
  if (!register_builtin_aggregators(registry).ok()) return 1;
  const std::string name = argc > 1 ? argv[1] : "fedavg";
  examples::LeastSquaresOptions options;
  if (argc > 2) options.local_steps = std::atoi(argv[2]);
  if (argc > 3) options.rounds = std::atoi(argv[3]);
  auto aggregator = registry.create(name);
  if (!aggregator.ok()) {
    std::fprintf(stderr, "error: %s\n", aggregator.status().message().c_str());
    return 2;
  }
  auto run = examples::run_federated_least_squares(options, **aggregator);
  if (!run.ok()) {
    std::fprintf(stderr, "error: %s\n", run.status().message().c_str());
    return 1;
  }
  for (size_t r = 0; r < run->distance.size(); ++r)
    if (r < 5 || (r + 1) % 20 == 0) std::printf("round %3zu  ||x - x*|| / ||x*|| = %.3e\n", r + 1, run->distance[r]);
  return 0;
}
