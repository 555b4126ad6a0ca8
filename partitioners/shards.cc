#include "partitioners/shards.h"

#include <algorithm>
#include <numeric>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {

Status check_shards_options(const ShardsOptions& options) {
  if (options.shards_per_client < 1)
    return invalid_argument_error("shards_per_client must be >= 1, got " + std::to_string(options.shards_per_client));
  return Status();
}

StatusOr<Partition> ShardsPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                                 uint64_t seed) const {
  RETURN_IF_ERROR(check_shards_options(options_));
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const size_t n = labels.size(), k = static_cast<size_t>(num_clients);
  const auto per_client = static_cast<uint64_t>(options_.shards_per_client);
  // per_client * k > n, written so that the product cannot overflow.
  if (per_client > n / k) {
    return invalid_argument_error("shards_per_client=" + std::to_string(per_client) + " x " + std::to_string(k) +
                                  " clients needs more shards than the " + std::to_string(n) +
                                  " samples there are (every shard needs one); lower --shards-per-client or use "
                                  "fewer clients");
  }
  const size_t num_shards = static_cast<size_t>(per_client) * k;

  // Counting sort by label: stable, so equal labels stay in index order.
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  std::vector<int64_t> sorted;
  sorted.reserve(n);
  for (const auto& members : by_class) sorted.insert(sorted.end(), members.begin(), members.end());

  // shard_begin[s] .. shard_begin[s + 1] is shard s in `sorted`.
  std::vector<size_t> shard_begin(num_shards + 1, 0);
  for (size_t s = 0; s < num_shards; ++s)
    shard_begin[s + 1] = shard_begin[s] + n / num_shards + (s < n % num_shards ? 1 : 0);

  std::vector<size_t> shard_ids(num_shards);
  std::iota(shard_ids.begin(), shard_ids.end(), 0);
  Rng rng(derive_seed(seed, 3));  // stream 3: the shards split (IID uses 1, Dirichlet 2)
  rng.shuffle(shard_ids);

  Partition out;
  out.client_indices.resize(k);
  for (size_t c = 0; c < k; ++c) {
    auto& mine = out.client_indices[c];
    for (size_t j = c * per_client; j < (c + 1) * per_client; ++j) {
      const size_t s = shard_ids[j];
      mine.insert(mine.end(), sorted.begin() + static_cast<std::ptrdiff_t>(shard_begin[s]),
                  sorted.begin() + static_cast<std::ptrdiff_t>(shard_begin[s + 1]));
    }
    std::sort(mine.begin(), mine.end());
  }
  return out;
}

PartitionerRegistry::Entry ShardsPartitioner::registry_entry() {
  return {"shards",
          "non-IID: label-sorted data cut into equal shards, a few per client (McMahan et al. 2017)",
          {{"shards_per_client", "2", "shards dealt to each client, >= 1; clients x shards must not exceed samples"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
            ShardsOptions s;
            ASSIGN_OR_RETURN(s.shards_per_client, o.get_int("shards_per_client"));
            RETURN_IF_ERROR(check_shards_options(s));
            return std::unique_ptr<Partitioner>(new ShardsPartitioner(s));
          }};
}

}  // namespace flotilla
