#include "partitioners/dirichlet.h"

#include <algorithm>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {
namespace {

// One draw over every class; `clients` comes back with each client's (unsorted) indices.
std::vector<std::vector<int64_t>> draw_once(const std::vector<std::vector<int64_t>>& by_class, size_t num_samples,
                                            int num_clients, const DirichletOptions& options, Rng& rng) {
  const size_t k = static_cast<size_t>(num_clients);
  const double fair_share = static_cast<double>(num_samples) / static_cast<double>(k);
  std::vector<std::vector<int64_t>> clients(k);
  for (const auto& members : by_class) {
    if (members.empty()) continue;
    std::vector<int64_t> shuffled = members;
    rng.shuffle(shuffled);
    std::vector<double> p = rng.dirichlet(options.alpha, num_clients);
    if (options.balance) {
      double kept = 0;
      for (size_t j = 0; j < k; ++j) {
        if (static_cast<double>(clients[j].size()) >= fair_share) p[j] = 0;
        kept += p[j];
      }
      if (kept > 0) {
        for (auto& x : p) x /= kept;
      } else {
        // Everyone is full (possible only through rounding): the reference code divides by zero
        // here; share this class freely instead.
        p = rng.dirichlet(options.alpha, num_clients);
      }
    }
    // Cut points at floor(cumsum(p) * count); the last client takes the rest, as np.split does.
    const double count = static_cast<double>(shuffled.size());
    double cumulative = 0;
    size_t begin = 0;
    for (size_t j = 0; j < k; ++j) {
      cumulative += p[j];
      size_t end = j + 1 == k ? shuffled.size() : std::min(shuffled.size(), static_cast<size_t>(cumulative * count));
      end = std::max(end, begin);
      clients[j].insert(clients[j].end(), shuffled.begin() + static_cast<std::ptrdiff_t>(begin),
                        shuffled.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
    }
  }
  return clients;
}

}  // namespace

Status check_dirichlet_options(const DirichletOptions& options) {
  RETURN_IF_ERROR(check_concentration("alpha", options.alpha));
  if (options.min_partition_size < 0)
    return invalid_argument_error("min_partition_size must be >= 0, got " + std::to_string(options.min_partition_size));
  if (options.max_retries < 1)
    return invalid_argument_error("max_retries must be >= 1, got " + std::to_string(options.max_retries));
  return Status();
}

StatusOr<Partition> DirichletPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes,
                                                    int num_clients, uint64_t seed) const {
  RETURN_IF_ERROR(check_dirichlet_options(options_));
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const size_t n = labels.size();
  // Every client holds at least one sample even when min_partition_size is 0.
  const int64_t min_size = std::max<int64_t>(options_.min_partition_size, 1);
  // Fail before drawing when no split at all can meet the minimum (the retries could never).
  if (static_cast<double>(min_size) * num_clients > static_cast<double>(n)) {
    return invalid_argument_error(std::to_string(num_clients) + " clients of at least " + std::to_string(min_size) +
                                  " samples need more than the " + std::to_string(n) +
                                  " samples there are; lower --min-partition-size or use fewer clients");
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));

  Rng rng(derive_seed(seed, 2));  // stream 2: the Dirichlet split (IID uses 1)
  size_t best_smallest = 0;       // the draw that came closest, for the error message
  for (int attempt = 0; attempt < options_.max_retries; ++attempt) {
    auto clients = draw_once(by_class, n, num_clients, options_, rng);
    size_t this_smallest = n;
    for (const auto& c : clients) this_smallest = std::min(this_smallest, c.size());
    if (static_cast<int64_t>(this_smallest) >= min_size) {
      Partition out;
      out.client_indices = std::move(clients);
      for (auto& c : out.client_indices) std::sort(c.begin(), c.end());
      return out;
    }
    best_smallest = std::max(best_smallest, this_smallest);
  }
  return invalid_argument_error(
      "Dirichlet(alpha=" + format_number(options_.alpha) + ") over " + std::to_string(num_clients) +
      " clients left some client below the minimum of " + std::to_string(min_size) + " samples in each of " +
      std::to_string(options_.max_retries) + " draws (the closest draw's smallest client had " +
      std::to_string(best_smallest) + "); lower --min-partition-size or raise --alpha");
}

PartitionerRegistry::Entry DirichletPartitioner::registry_entry() {
  return {"dirichlet",
          "non-IID: per-class client shares drawn from Dirichlet(alpha) (Hsu et al. 2019)",
          {{"alpha", "0.5", "concentration, > 0; smaller is more skewed, large is close to IID"},
           {"min_partition_size", "10", "fewest samples per client; the draw is repeated until met"},
           {"max_retries", "100", "re-draws before giving up with an error"},
           {"balance", "true", "stop giving classes to clients that already hold N/clients samples"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
            DirichletOptions d;
            ASSIGN_OR_RETURN(d.alpha, o.get_double("alpha"));
            ASSIGN_OR_RETURN(d.min_partition_size, o.get_int("min_partition_size"));
            ASSIGN_OR_RETURN(int64_t retries, o.get_int("max_retries"));
            ASSIGN_OR_RETURN(d.balance, o.get_bool("balance"));
            // Bounded so that a typo cannot stall start-up: 10,000 draws over 1000 clients take ~25 s.
            if (retries < 1 || retries > 10000)
              return invalid_argument_error("max_retries must be in [1, 10000], got " + std::to_string(retries));
            d.max_retries = static_cast<int>(retries);
            RETURN_IF_ERROR(check_dirichlet_options(d));
            return std::unique_ptr<Partitioner>(new DirichletPartitioner(d));
          }};
}

}  // namespace flotilla
