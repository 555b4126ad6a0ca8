#include "client/collective_member.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>

#include "collective/data_parallel.h"
#include "collective/gossip.h"

namespace flotilla {
namespace {

// Room beyond the model in one peer message: a chunk's tag frame and the transport header.
constexpr int64_t kMessageAllowance = int64_t{1} << 20;

CollectiveOptions options_of(const msg::CollectiveTask& task) {
  CollectiveOptions options;
  options.step_timeout = std::chrono::milliseconds(static_cast<int64_t>(task.timeout_seconds * 1000));
  return options;
}

void add_to(CollectiveStats& total, const CollectiveStats& more) {
  total.steps += more.steps;
  total.elements += more.elements;
  total.bytes_sent += more.bytes_sent;
  total.bytes_received += more.bytes_received;
}

bool same_group(const std::vector<PeerInfo>& a, const std::vector<PeerInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].rank != b[i].rank || a[i].endpoint != b[i].endpoint || a[i].public_key != b[i].public_key) return false;
  return true;
}

}  // namespace

Status CollectiveMember::join(const msg::CollectiveTask& task, int64_t model_bytes) {
  if (endpoint_.empty())
    return failed_precondition_error("a " + task.topology +
                                     " round needs a peer endpoint, and this process has none (--peer-bind)");
  std::vector<PeerInfo> group(task.peers.size());
  for (const auto& peer : task.peers) {
    // The codec checked that the ranks are 0..N-1, each once.
    group[static_cast<size_t>(peer.rank)] = PeerInfo{peer.rank, peer.endpoint, peer.public_key};
  }
  if (group[static_cast<size_t>(task.rank)].endpoint != endpoint_)
    return failed_precondition_error("the task makes this process rank " + std::to_string(task.rank) + " at " +
                                     group[static_cast<size_t>(task.rank)].endpoint + ", but it listens at " +
                                     endpoint_);
  if (transport_ && rank_ == task.rank && same_group(group, group_)) return Status();
  transport_.reset();  // unbinds before binding again
  ZmqPeerOptions options;
  options.keys = keys_;
  options.max_message_bytes = model_bytes + kMessageAllowance;
  ASSIGN_OR_RETURN(transport_, ZmqPeerTransport::create(task.rank, group, options));
  group_ = std::move(group);
  rank_ = task.rank;
  return Status();
}

StatusOr<CollectiveStats> CollectiveMember::combine(const msg::CollectiveTask& task, ModelState& state, double weight) {
  RETURN_IF_ERROR(join(task, state.byte_size()));
  const CollectiveOptions options = options_of(task);
  at::NoGradGuard no_grad;  // the state aliases the model's parameters, changed in place
  StatusOr<CollectiveStats> stats = invalid_argument_error("unknown topology '" + task.topology + "'");
  if (task.topology == "ring-allreduce") {
    stats = ring_weighted_mean(*transport_, state, weight, options);
  } else if (task.topology == "gossip") {
    MixingRow row;
    for (const auto& peer : task.peers) {
      if (peer.rank == task.rank)
        row.self_weight = peer.weight;
      else if (peer.weight != 0)
        row.neighbours.emplace_back(peer.rank, peer.weight);
    }
    stats = gossip_mix(*transport_, row, state, options);
  }
  if (!stats.ok()) transport_.reset();  // it may hold the failed collective's stale messages
  return stats;
}

StatusOr<int64_t> CollectiveMember::agree_steps_per_epoch(const msg::CollectiveTask& task, int64_t num_samples,
                                                          int batch_size, int64_t model_bytes) {
  if (batch_size < 1 || num_samples < 1)
    return invalid_argument_error("data-parallel training needs samples and a batch size >= 1");
  RETURN_IF_ERROR(join(task, model_bytes));
  gradient_task_ = task;
  round_stats_ = CollectiveStats();
  // Each member writes its batch count into its own slot; the sum is then every member's count.
  // float32 is exact for counts below 2^24.
  const int64_t own = std::max<int64_t>(1, num_samples / batch_size);
  at::Tensor counts = at::zeros({transport_->size()}, at::kFloat);
  counts.data_ptr<float>()[task.rank] = static_cast<float>(own);
  std::vector<at::Tensor> tensors{counts};
  auto stats = ring_allreduce(*transport_, tensors, options_of(task));
  if (!stats.ok()) {
    transport_.reset();
    return stats.status().with_context("agreeing on the steps per epoch");
  }
  add_to(round_stats_, *stats);
  return static_cast<int64_t>(counts.min().item<float>());
}

Status CollectiveMember::average_gradients(std::span<const at::Tensor> parameters) {
  if (!transport_) return failed_precondition_error("no data-parallel round in progress");
  auto stats = allreduce_gradients(*transport_, parameters, options_of(gradient_task_));
  if (!stats.ok()) {
    transport_.reset();
    return stats.status();
  }
  add_to(round_stats_, *stats);
  return Status();
}

StatusOr<CollectiveStats> CollectiveMember::finish_gradient_round(ModelState& buffers, double weight) {
  if (!transport_) return failed_precondition_error("no data-parallel round in progress");
  if (!buffers.empty()) {
    at::NoGradGuard no_grad;
    auto stats = ring_weighted_mean(*transport_, buffers, weight, options_of(gradient_task_));
    if (!stats.ok()) {
      transport_.reset();
      return stats.status().with_context("averaging the buffers");
    }
    add_to(round_stats_, *stats);
  }
  return round_stats_;
}

}  // namespace flotilla
