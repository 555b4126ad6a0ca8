#include "partitioners/label_split.h"

#include <algorithm>

#include "core/log.h"
#include "partitioners/checks.h"
#include "partitioners/random.h"

namespace flotilla {

StatusOr<LabelAssignment> parse_label_assignment(const std::string& name) {
  if (name == "rotation") return LabelAssignment::kRotation;
  if (name == "niid_bench") return LabelAssignment::kNiidBench;
  return invalid_argument_error("assignment must be rotation or niid_bench, got '" + name + "'");
}

namespace {

// holders[c] = the clients holding class c, ascending; `present` lists the classes with samples,
// ascending.
std::vector<std::vector<size_t>> assign_holders(LabelAssignment assignment, std::vector<size_t> present,
                                                size_t num_classes, size_t clients, size_t per, Rng& rng) {
  std::vector<std::vector<size_t>> holders(num_classes);
  const size_t count = present.size();
  if (assignment == LabelAssignment::kRotation) {
    rng.shuffle(present);
    for (size_t client = 0; client < clients; ++client)
      for (size_t j = 0; j < per; ++j) holders[present[(client * per + j) % count]].push_back(client);
    return holders;
  }
  for (size_t client = 0; client < clients; ++client) {
    std::vector<size_t> mine{present[client % count]};
    while (mine.size() < per) {
      const size_t drawn = present[rng.uniform_int(count)];
      if (std::find(mine.begin(), mine.end(), drawn) == mine.end()) mine.push_back(drawn);
    }
    for (size_t c : mine) holders[c].push_back(client);
  }
  return holders;
}

}  // namespace

Status check_label_split_options(const LabelSplitOptions& options) {
  if (options.labels_per_client < 1)
    return invalid_argument_error("labels_per_client must be >= 1, got " + std::to_string(options.labels_per_client));
  return Status();
}

StatusOr<Partition> LabelSplitPartitioner::partition(std::span<const int64_t> labels, int64_t num_classes,
                                                     int num_clients, uint64_t seed) const {
  RETURN_IF_ERROR(check_label_split_options(options_));
  RETURN_IF_ERROR(check_partition_arguments(labels, num_classes, num_clients));
  const int64_t per_client = options_.labels_per_client;
  if (per_client > num_classes)
    return invalid_argument_error("labels_per_client=" + std::to_string(per_client) + " must be in [1, " +
                                  std::to_string(num_classes) + "], the number of classes");

  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i)
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  // Only classes with samples are dealt out: a client given an empty class would hold fewer than K.
  std::vector<size_t> order;
  for (size_t c = 0; c < by_class.size(); ++c)
    if (!by_class[c].empty()) order.push_back(c);
  const size_t present = order.size(), k = static_cast<size_t>(num_clients), per = static_cast<size_t>(per_client);
  if (per > present)
    return invalid_argument_error("labels_per_client=" + std::to_string(per_client) + " but only " +
                                  std::to_string(present) + " of the " + std::to_string(num_classes) +
                                  " classes have samples; lower --labels-per-client");

  Rng rng(derive_seed(seed, 4));  // stream 4: the label split (IID uses 1, Dirichlet 2, shards 3)
  const std::vector<std::vector<size_t>> holders =
      assign_holders(options_.assignment, order, by_class.size(), k, per, rng);

  for (size_t c = 0; c < by_class.size(); ++c) {
    if (!holders[c].empty() && by_class[c].size() < holders[c].size())
      return invalid_argument_error("class " + std::to_string(c) + " has " + std::to_string(by_class[c].size()) +
                                    " samples but labels_per_client=" + std::to_string(per_client) + " over " +
                                    std::to_string(k) + " clients gives it " + std::to_string(holders[c].size()) +
                                    " holders, each of which needs one; lower --labels-per-client or use fewer "
                                    "clients");
  }

  Partition out;
  out.client_indices.resize(k);
  std::string unheld;
  size_t unused = 0;
  for (size_t c = 0; c < by_class.size(); ++c) {
    if (by_class[c].empty()) continue;
    if (holders[c].empty()) {
      unheld += (unheld.empty() ? "" : ", ") + std::to_string(c);
      unused += by_class[c].size();
      continue;
    }
    std::vector<int64_t>& members = by_class[c];
    rng.shuffle(members);
    const size_t h = holders[c].size(), m = members.size();
    size_t begin = 0;
    for (size_t i = 0; i < h; ++i) {
      const size_t end = begin + m / h + (i < m % h ? 1 : 0);
      auto& mine = out.client_indices[holders[c][i]];
      mine.insert(mine.end(), members.begin() + static_cast<std::ptrdiff_t>(begin),
                  members.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
    }
  }
  for (auto& mine : out.client_indices) std::sort(mine.begin(), mine.end());
  if (unused > 0) {
    FLOTILLA_LOG(Warning) << "label_split: no client of " << k << " holds classes {" << unheld
                          << "} (labels_per_client=" << per_client << " of " << present << " classes); their " << unused
                          << " samples belong to no client";
  }
  return out;
}

PartitionerRegistry::Entry LabelSplitPartitioner::registry_entry() {
  return {"label_split",
          "non-IID: each client holds exactly K classes, split evenly among their holders (#C=k, Li et al. 2022)",
          {{"labels_per_client", "2",
            "classes per client (K), 1 .. number of classes; with clients x K < classes some classes go unused"},
           {"assignment", "rotation",
            "which client holds which class: rotation (round a shuffled order, holders even) | niid_bench (client k "
            "holds class k mod C plus random others, NIID-Bench's draw)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Partitioner>> {
            LabelSplitOptions s;
            ASSIGN_OR_RETURN(s.labels_per_client, o.get_int("labels_per_client"));
            ASSIGN_OR_RETURN(std::string assignment, o.get_string("assignment"));
            ASSIGN_OR_RETURN(s.assignment, parse_label_assignment(assignment));
            RETURN_IF_ERROR(check_label_split_options(s));
            return std::unique_ptr<Partitioner>(new LabelSplitPartitioner(s));
          }};
}

}  // namespace flotilla
