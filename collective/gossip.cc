#include "collective/gossip.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <string>
#include <vector>

#include "collective/tensor_frames.h"

namespace flotilla {

StatusOr<CollectiveStats> gossip_step(PeerTransport& transport, const MixingMatrix& w, ModelState& state,
                                      const CollectiveOptions& options) {
  const int n = transport.size();
  const int rank = transport.rank();
  if (w.size() != n) {
    return invalid_argument_error("mixing matrix of " + std::to_string(w.size()) + " ranks for a group of " +
                                  std::to_string(n));
  }
  MixingRow row;
  row.self_weight = w(rank, rank);
  for (int j = 0; j < n; ++j) {
    if (j != rank && w(rank, j) != 0.0) row.neighbours.emplace_back(j, w(rank, j));
  }
  return gossip_mix(transport, row, state, options);
}

StatusOr<CollectiveStats> gossip_mix(PeerTransport& transport, const MixingRow& row, ModelState& state,
                                     const CollectiveOptions& options) {
  const int n = transport.size();
  const int rank = transport.rank();
  std::vector<std::pair<int, double>> neighbours = row.neighbours;
  std::sort(neighbours.begin(), neighbours.end());
  for (size_t k = 0; k < neighbours.size(); ++k) {
    const int j = neighbours[k].first;
    if (j < 0 || j >= n || j == rank || (k > 0 && neighbours[k - 1].first == j))
      return invalid_argument_error("gossip neighbour rank " + std::to_string(j) + " is out of range, this rank (" +
                                    std::to_string(rank) + ") or repeated");
  }
  std::vector<at::Tensor> tensors;
  std::vector<std::string> names;
  for (const NamedTensor& entry : state.entries()) {
    tensors.push_back(entry.tensor);
    names.push_back(entry.name);
  }
  ASSIGN_OR_RETURN(at::Tensor mine, flatten_float32(tensors, names));
  const PeerTraffic before = transport.traffic();
  const uint64_t numel = static_cast<uint64_t>(mine.numel());
  for (const auto& [j, weight] : neighbours) {
    RETURN_IF_ERROR(transport.send(j, chunk_message({0, static_cast<uint32_t>(rank), numel}, mine)));
  }
  std::vector<at::Tensor> received(n);
  for (const auto& [j, weight] : neighbours) {
    ASSIGN_OR_RETURN(Frames frames, transport.receive(j, options.step_timeout));
    ASSIGN_OR_RETURN(received[j], read_chunk_message(frames, {0, static_cast<uint32_t>(j), numel}, j));
  }
  received[rank] = mine;
  // In increasing rank, this rank included: the same order on every run.
  std::vector<double> weight_of(n, 0.0);
  weight_of[rank] = row.self_weight;
  for (const auto& [j, weight] : neighbours) weight_of[j] = weight;
  at::Tensor mixed = at::zeros({mine.numel()}, at::kDouble);
  for (int j = 0; j < n; ++j) {
    if (received[j].defined()) mixed.add_(received[j].to(at::kDouble), weight_of[j]);
  }
  unflatten_into(mixed.to(at::kFloat), tensors);
  const PeerTraffic after = transport.traffic();
  CollectiveStats stats;
  stats.steps = 1;
  stats.elements = mine.numel();
  stats.bytes_sent = after.bytes_sent - before.bytes_sent;
  stats.bytes_received = after.bytes_received - before.bytes_received;
  return stats;
}

}  // namespace flotilla
