#include "aggregators/krum.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/server_step.h"
#include "aggregators/weighted_average.h"

namespace flotilla {

std::vector<double> krum_scores(std::span<const ClientUpdate> updates, int64_t byzantine) {
  const int64_t n = static_cast<int64_t>(updates.size());
  std::vector<at::Tensor> flat;
  for (const auto& u : updates) {
    std::vector<at::Tensor> parts;
    for (const auto& e : u.state.entries())
      if (e.tensor.is_floating_point()) parts.push_back(e.tensor.flatten().to(at::kDouble));
    flat.push_back(at::cat(parts));
  }
  const at::Tensor x = at::stack(flat);            // [n, P]
  const at::Tensor d2 = at::cdist(x, x).square();  // squared distances, [n, n]
  const int64_t neighbours = n - byzantine - 2;
  std::vector<double> scores;
  for (int64_t i = 0; i < n; ++i) {
    // The smallest `neighbours` distances to others: sort the row and skip the self-distance 0.
    const at::Tensor row = std::get<0>(d2[i].sort());
    scores.push_back(row.narrow(0, 1, neighbours).sum().item<double>());
  }
  return scores;
}

StatusOr<ModelState> Krum::aggregate(const AggregationRound& round) {
  const int64_t n = static_cast<int64_t>(round.updates.size());
  const int64_t f = options_.byzantine;
  if (n <= 2 * f + 2) {
    return invalid_argument_error("krum with f=" + std::to_string(f) + " needs more than " + std::to_string(2 * f + 2) +
                                  " updates, got " + std::to_string(n));
  }
  const int64_t m = options_.selected == 0 ? n - f : options_.selected;
  if (m > n)
    return invalid_argument_error("multi_krum selects m=" + std::to_string(m) + " of only " + std::to_string(n));
  const std::vector<double> scores = krum_scores(round.updates, f);
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::vector<ClientUpdate> chosen;
  for (int64_t j = 0; j < m; ++j) chosen.push_back(round.updates[order[static_cast<size_t>(j)]]);
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
  ASSIGN_OR_RETURN(ModelState picked, weighted_average(chosen));
  return apply_server_lr(*round.global, std::move(picked), options_.server_lr);
}

Status Krum::restore_state(const ModelState& state) { return check_stateless(name_, state); }

namespace {

StatusOr<std::unique_ptr<Aggregator>> make_krum(const Options& o, bool multi) {
  KrumOptions k;
  ASSIGN_OR_RETURN(k.byzantine, read_int_at_least(o, "f", 0));
  if (multi) {
    ASSIGN_OR_RETURN(k.selected, read_int_at_least(o, "m", 0));
  }
  ASSIGN_OR_RETURN(k.server_lr, read_positive(o, "server_lr"));
  return std::unique_ptr<Aggregator>(new Krum(k, multi ? "multi_krum" : "krum"));
}

}  // namespace

AggregatorRegistry::Entry Krum::krum_entry() {
  return {"krum",
          "the model of the client closest to its n - f - 2 nearest neighbours (Blanchard et al. 2017)",
          {{"f", "1", "number of Byzantine clients tolerated; needs n > 2f + 2"}, server_lr_option()},
          [](const Options& o) { return make_krum(o, false); }};
}

AggregatorRegistry::Entry Krum::multi_krum_entry() {
  return {"multi_krum",
          "sample-weighted average of the m best Krum-scored clients (Blanchard et al. 2017)",
          {{"f", "1", "number of Byzantine clients tolerated; needs n > 2f + 2"},
           {"m", "0", "clients selected; 0 = n - f"},
           server_lr_option()},
          [](const Options& o) { return make_krum(o, true); }};
}

}  // namespace flotilla
