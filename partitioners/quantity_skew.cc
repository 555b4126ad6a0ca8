#include "partitioners/quantity_skew.h"

#include <algorithm>
#include <numeric>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {

Status check_quantity_skew_options(const QuantitySkewOptions& options) {
  RETURN_IF_ERROR(check_concentration("alpha", options.alpha));
  if (options.min_partition_size < 0)
    return invalid_argument_error("min_partition_size must be >= 0, got " + std::to_string(options.min_partition_size));
  return Status();
}

StatusOr<Partition> QuantitySkewPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes,
                                                       int num_clients, uint64_t seed) const {
  RETURN_IF_ERROR(check_quantity_skew_options(options_));
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const size_t n = labels.size(), k = static_cast<size_t>(num_clients);
  // Every client holds at least one sample even when min_partition_size is 0.
  const auto min_size = static_cast<uint64_t>(std::max<int64_t>(options_.min_partition_size, 1));
  if (min_size > n / k) {  // min_size * k > n, without overflow
    return invalid_argument_error(std::to_string(k) + " clients of at least min_partition_size=" +
                                  std::to_string(min_size) + " samples need more than the " + std::to_string(n) +
                                  " samples there are; lower --min-partition-size or use fewer clients");
  }
  const size_t rest = n - static_cast<size_t>(min_size) * k;

  Rng rng(derive_seed(seed, 5));  // stream 5: the quantity-skew split (IID uses 1, Dirichlet 2)
  const std::vector<double> q = rng.dirichlet(options_.alpha, num_clients);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);

  Partition out;
  out.client_indices.resize(k);
  double cumulative = 0;
  size_t extra_begin = 0, begin = 0;
  for (size_t c = 0; c < k; ++c) {
    cumulative += q[c];
    // Cut at floor(cumsum(q) * rest), as np.split does; the comparisons keep a rounding excess
    // (or a NaN) from leaving [extra_begin, rest].
    const double cut = cumulative * static_cast<double>(rest);
    size_t extra_end = rest;
    if (c + 1 < k) extra_end = cut < static_cast<double>(rest) ? (cut > 0 ? static_cast<size_t>(cut) : 0) : rest;
    extra_end = std::max(extra_end, extra_begin);
    const size_t size = static_cast<size_t>(min_size) + (extra_end - extra_begin);
    auto& mine = out.client_indices[c];
    mine.assign(order.begin() + static_cast<std::ptrdiff_t>(begin),
                order.begin() + static_cast<std::ptrdiff_t>(begin + size));
    std::sort(mine.begin(), mine.end());
    extra_begin = extra_end;
    begin += size;
  }
  return out;
}

PartitionerRegistry::Entry QuantitySkewPartitioner::registry_entry() {
  return {"quantity_skew",
          "non-IID sizes, IID labels: client sizes from Dirichlet(alpha) over clients (Li et al. 2022)",
          {{"alpha", "0.5", "concentration, > 0; smaller gives more unequal sizes, large near-equal ones"},
           {"min_partition_size", "10", "samples every client gets before the rest is shared out by Dirichlet"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
            QuantitySkewOptions s;
            ASSIGN_OR_RETURN(s.alpha, o.get_double("alpha"));
            ASSIGN_OR_RETURN(s.min_partition_size, o.get_int("min_partition_size"));
            RETURN_IF_ERROR(check_quantity_skew_options(s));
            return std::unique_ptr<Partitioner>(new QuantitySkewPartitioner(s));
          }};
}

}  // namespace flotilla
