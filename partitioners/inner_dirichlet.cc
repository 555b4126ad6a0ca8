#include "partitioners/inner_dirichlet.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {
namespace {

// A class drawn with probability proportional to weights[c] among the classes with left[c] > 0,
// or to left[c] itself when those weights sum to 0 (or are not finite). Some class must have
// samples left. Uses exactly one uniform either way.
size_t draw_class(const std::vector<double>& weights, const std::vector<size_t>& left, Rng& rng) {
  double total = 0;
  for (size_t c = 0; c < left.size(); ++c)
    if (left[c] > 0) total += weights[c];
  const bool by_weight = total > 0 && total < std::numeric_limits<double>::infinity();
  if (!by_weight) {
    total = 0;
    for (size_t count : left) total += static_cast<double>(count);
  }
  const double u = rng.uniform() * total;
  double cumulative = 0;
  size_t last = left.size();
  for (size_t c = 0; c < left.size(); ++c) {
    const double w = left[c] == 0 ? 0 : by_weight ? weights[c] : static_cast<double>(left[c]);
    if (w <= 0) continue;
    cumulative += w;
    last = c;
    if (u < cumulative) return c;
  }
  // Rounding left u at or past the final sum: the last class that could be drawn.
  FLOTILLA_CHECK(last < left.size()) << "no class has samples left";
  return last;
}

}  // namespace

Status check_inner_dirichlet_options(const InnerDirichletOptions& options) {
  return check_concentration("alpha", options.alpha);
}

StatusOr<Partition> InnerDirichletPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes,
                                                         int num_clients, uint64_t seed) const {
  RETURN_IF_ERROR(check_inner_dirichlet_options(options_));
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const size_t n = labels.size(), k = static_cast<size_t>(num_clients);

  // Only classes with samples take part: Dir needs every concentration > 0.
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  std::erase_if(by_class, [](const std::vector<int64_t>& members) { return members.empty(); });
  // alpha * C * prior: on balanced classes exactly FedLab's and Flower's Dir(alpha, ..., alpha),
  // so their users' alphas carry over; on imbalanced ones the expected mix is still the global one.
  std::vector<double> concentration;
  const double classes = static_cast<double>(by_class.size());
  for (const auto& members : by_class)
    concentration.push_back(options_.alpha * classes * static_cast<double>(members.size()) / static_cast<double>(n));

  Rng rng(derive_seed(seed, 6));  // stream 6: the inner-Dirichlet split (IID uses 1, Dirichlet 2)
  for (auto& members : by_class) rng.shuffle(members);
  std::vector<std::vector<double>> weights(k);
  for (auto& w : weights) w = rng.dirichlet(concentration);

  std::vector<size_t> left(by_class.size());
  for (size_t c = 0; c < by_class.size(); ++c) left[c] = by_class[c].size();
  std::vector<size_t> room(k);
  for (size_t j = 0; j < k; ++j) room[j] = n / k + (j < n % k ? 1 : 0);
  // Clients not yet full; one is swapped out when it fills, so a draw never lands on a full one.
  std::vector<size_t> open(k);
  std::iota(open.begin(), open.end(), 0);

  Partition out;
  out.client_indices.resize(k);
  // Every step places one sample and the rooms add up to n, so samples and room run out together.
  for (size_t step = 0; step < n; ++step) {
    const size_t slot = static_cast<size_t>(rng.uniform_int(open.size()));
    const size_t client = open[slot];
    const size_t c = draw_class(weights[client], left, rng);
    out.client_indices[client].push_back(by_class[c][--left[c]]);
    if (--room[client] == 0) {
      open[slot] = open.back();
      open.pop_back();
    }
  }
  for (auto& mine : out.client_indices) std::sort(mine.begin(), mine.end());
  return out;
}

PartitionerRegistry::Entry InnerDirichletPartitioner::registry_entry() {
  return {
      "inner_dirichlet",
      "non-IID labels, equal sizes: each client's class mix from Dirichlet(alpha x C x class prior), filled as in "
      "FedLab",
      {{"alpha", "0.5", "concentration per class as in FedLab/Flower, > 0; smaller is more skewed, large is near IID"}},
      [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
        InnerDirichletOptions s;
        ASSIGN_OR_RETURN(s.alpha, o.get_double("alpha"));
        RETURN_IF_ERROR(check_inner_dirichlet_options(s));
        return std::unique_ptr<Partitioner>(new InnerDirichletPartitioner(s));
      }};
}

}  // namespace flotilla
