#include "launcher/client_ranges.h"

namespace flotilla {

std::string ClientRange::to_string() const {
  if (first == last) return std::to_string(first);
  return std::to_string(first) + "-" + std::to_string(last);
}

StatusOr<std::vector<ClientRange>> split_client_ranges(int num_clients, int num_processes) {
  if (num_clients < 1) {
    return invalid_argument_error("--clients must be at least 1, got " + std::to_string(num_clients));
  }
  if (num_processes < 1 || num_processes > num_clients) {
    return invalid_argument_error("--processes must be between 1 and --clients (" + std::to_string(num_clients) +
                                  "), got " + std::to_string(num_processes));
  }
  const int base = num_clients / num_processes;
  const int extra = num_clients % num_processes;
  std::vector<ClientRange> ranges;
  ranges.reserve(num_processes);
  int next = 0;
  for (int p = 0; p < num_processes; ++p) {
    const int size = base + (p < extra ? 1 : 0);
    ranges.push_back({next, next + size - 1});
    next += size;
  }
  return ranges;
}

}  // namespace flotilla
