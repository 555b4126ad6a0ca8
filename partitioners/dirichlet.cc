#include "partitioners/dirichlet.h"

#include <algorithm>
#include <cmath>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {

StatusOr<Partition> DirichletPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes,
                                                    int num_clients, uint64_t seed) const {
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const size_t n = labels.size(), k = static_cast<size_t>(num_clients);
  if (static_cast<double>(options_.min_partition_size) * static_cast<double>(k) > static_cast<double>(n)) {
    return invalid_argument_error(std::to_string(num_clients) + " clients of at least " +
                                  std::to_string(options_.min_partition_size) + " samples need more than the " +
                                  std::to_string(n) + " samples there are; lower --min-partition-size");
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));

  Rng rng(derive_seed(seed, 2));
  const double full = static_cast<double>(n) / static_cast<double>(k);
  size_t smallest = 0;
  for (int attempt = 0; attempt < options_.max_retries; ++attempt) {
    std::vector<std::vector<int64_t>> clients(k);
    for (auto& members : by_class) {
      if (members.empty()) continue;
      std::vector<int64_t> shuffled = members;
      rng.shuffle(shuffled);
      std::vector<double> p = rng.dirichlet(options_.alpha, num_clients);
      if (options_.balance) {
        double kept = 0;
        for (size_t j = 0; j < k; ++j) kept += (p[j] *= (static_cast<double>(clients[j].size()) < full ? 1.0 : 0.0));
        if (kept > 0) {
          for (auto& x : p) x /= kept;
        } else {
          p = rng.dirichlet(options_.alpha, num_clients);  // everyone is full: share freely
        }
      }
      // Cut points at floor(cumsum(p) * count), as the reference implementation does.
      const double count = static_cast<double>(shuffled.size());
      double cumulative = 0;
      size_t begin = 0;
      for (size_t j = 0; j < k; ++j) {
        cumulative += p[j];
        size_t end = j + 1 == k ? shuffled.size() : std::min(shuffled.size(), static_cast<size_t>(cumulative * count));
        end = std::max(end, begin);
        clients[j].insert(clients[j].end(), shuffled.begin() + begin, shuffled.begin() + end);
        begin = end;
      }
    }
    smallest = n;
    for (const auto& c : clients) smallest = std::min(smallest, c.size());
    if (static_cast<int64_t>(smallest) >= options_.min_partition_size && smallest > 0) {
      Partition out;
      out.client_indices = std::move(clients);
      for (auto& c : out.client_indices) std::sort(c.begin(), c.end());
      return out;
    }
  }
  return invalid_argument_error(
      "Dirichlet(alpha=" + std::to_string(options_.alpha) + ") over " + std::to_string(num_clients) +
      " clients left a client with only " + std::to_string(smallest) + " samples (minimum " +
      std::to_string(std::max<int64_t>(options_.min_partition_size, 1)) + ") in each of " +
      std::to_string(options_.max_retries) + " draws; lower --min-partition-size or raise --alpha");
}

PartitionerRegistry::Entry DirichletPartitioner::registry_entry() {
  return {"dirichlet",
          "non-IID: per-class client shares drawn from Dirichlet(alpha) (Hsu et al. 2019)",
          {{"alpha", "0.5", "concentration; smaller is more skewed"},
           {"min_partition_size", "10", "fewest samples per client; the draw is repeated until met"},
           {"max_retries", "100", "re-draws before giving up with an error"},
           {"balance", "true", "stop giving classes to clients that already hold N/clients samples"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
            DirichletOptions d;
            ASSIGN_OR_RETURN(d.alpha, o.get_double("alpha"));
            ASSIGN_OR_RETURN(d.min_partition_size, o.get_int("min_partition_size"));
            ASSIGN_OR_RETURN(int64_t retries, o.get_int("max_retries"));
            ASSIGN_OR_RETURN(d.balance, o.get_bool("balance"));
            if (!(d.alpha > 0)) return invalid_argument_error("alpha must be > 0");
            if (d.min_partition_size < 0) return invalid_argument_error("min_partition_size must be >= 0");
            if (retries < 1 || retries > 100000) return invalid_argument_error("max_retries must be in [1, 100000]");
            d.max_retries = static_cast<int>(retries);
            return std::unique_ptr<Partitioner>(new DirichletPartitioner(d));
          }};
}

}  // namespace flotilla
