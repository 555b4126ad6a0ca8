#include "collective/ring_allreduce.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

#include "collective/tensor_frames.h"

namespace flotilla {
namespace {

// Ends the collective with `status`, first telling the right neighbour (best effort: it may be the
// rank that died) so that the failure goes around the ring instead of N timeouts.
Status give_up(PeerTransport& transport, const Status& status) {
  std::string reason = status.message();
  const std::string prefix = kAbortedPrefix;
  if (status.code() == StatusCode::kAborted && reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
  const int right = (transport.rank() + 1) % transport.size();
  transport.send(right, abort_message(reason)).ignore_error();
  return status;
}

struct Chunk {
  int64_t begin = 0;
  int64_t size = 0;
};

Chunk chunk_of(int64_t total, int n, int c) {
  const int64_t q = total / n;
  const int64_t r = total % n;
  return {c * q + std::min<int64_t>(c, r), q + (c < r ? 1 : 0)};
}

}  // namespace

StatusOr<CollectiveStats> ring_allreduce_flat(PeerTransport& transport, at::Tensor& flat,
                                              const CollectiveOptions& options) {
  if (!flat.defined() || flat.scalar_type() != at::kFloat || flat.dim() != 1 || !flat.is_contiguous() ||
      !flat.device().is_cpu()) {
    return give_up(transport, invalid_argument_error("ring_allreduce_flat needs a 1-D contiguous float32 CPU tensor"));
  }
  const int n = transport.size();
  const int rank = transport.rank();
  CollectiveStats stats;
  stats.elements = flat.numel();
  if (n == 1) return stats;
  const PeerTraffic before = transport.traffic();
  const int right = (rank + 1) % n;
  const int left = (rank + n - 1) % n;
  const int64_t total = flat.numel();
  auto slice = [&](int c) {
    const Chunk chunk = chunk_of(total, n, c);
    return flat.slice(0, chunk.begin, chunk.begin + chunk.size);
  };
  // Step s < n-1 reduces (reduce-scatter), step s >= n-1 copies (all-gather). In the reduce-scatter
  // rank r sends chunk r-s and adds chunk r-s-1 into its own: chunk c starts at rank c and is
  // complete at rank c-1 after n-1 steps. In the all-gather rank r forwards the complete chunk
  // r+1-s' and stores chunk r-s'.
  for (int s = 0; s < 2 * (n - 1); ++s) {
    const bool reduce = s < n - 1;
    const int phase_step = reduce ? s : s - (n - 1);
    const int send_c = reduce ? (rank - phase_step + n) % n : (rank + 1 - phase_step + n) % n;
    const int recv_c = reduce ? (rank - phase_step - 1 + 2 * n) % n : (rank - phase_step + n) % n;
    at::Tensor out = slice(send_c);
    const ChunkTag send_tag{static_cast<uint32_t>(s), static_cast<uint32_t>(send_c),
                            static_cast<uint64_t>(out.numel())};
    const Status sent = transport.send(right, chunk_message(send_tag, out));
    if (!sent.ok()) return give_up(transport, sent);
    auto frames = transport.receive(left, options.step_timeout);
    if (!frames.ok()) return give_up(transport, frames.status());
    at::Tensor in = slice(recv_c);
    const ChunkTag recv_tag{static_cast<uint32_t>(s), static_cast<uint32_t>(recv_c), static_cast<uint64_t>(in.numel())};
    auto values = read_chunk_message(*frames, recv_tag, left);
    if (!values.ok()) return give_up(transport, values.status());
    if (reduce) {
      in.add_(*values);  // float addition commutes bit for bit, so this is partial_sum + x_rank
    } else {
      in.copy_(*values);
    }
  }
  const PeerTraffic after = transport.traffic();
  stats.steps = 2 * (n - 1);
  stats.bytes_sent = after.bytes_sent - before.bytes_sent;
  stats.bytes_received = after.bytes_received - before.bytes_received;
  return stats;
}

StatusOr<CollectiveStats> ring_allreduce(PeerTransport& transport, std::span<at::Tensor> tensors,
                                         const CollectiveOptions& options) {
  auto flat = flatten_float32(tensors);
  if (!flat.ok()) return give_up(transport, flat.status());
  ASSIGN_OR_RETURN(CollectiveStats stats, ring_allreduce_flat(transport, *flat, options));
  unflatten_into(*flat, tensors);
  return stats;
}

StatusOr<CollectiveStats> ring_weighted_mean(PeerTransport& transport, ModelState& state, double weight,
                                             const CollectiveOptions& options) {
  if (!std::isfinite(weight) || weight < 0) {
    return give_up(transport, invalid_argument_error("rank " + std::to_string(transport.rank()) + " has weight " +
                                                     std::to_string(weight) + "; weights must be finite and >= 0"));
  }
  std::vector<at::Tensor> tensors;
  std::vector<std::string> names;
  for (const NamedTensor& entry : state.entries()) {
    tensors.push_back(entry.tensor);
    names.push_back(entry.name);
  }
  auto values = flatten_float32(tensors, names);
  if (!values.ok()) return give_up(transport, values.status());
  const at::Tensor w = at::full({1}, weight, at::kFloat);
  at::Tensor flat = at::cat({*values * w, w}).contiguous();
  ASSIGN_OR_RETURN(CollectiveStats stats, ring_allreduce_flat(transport, flat, options));
  const int64_t total = flat.numel() - 1;
  const double weight_sum = flat[total].item<float>();
  if (weight_sum <= 0) return invalid_argument_error("every rank's weight is zero: the weighted mean is undefined");
  at::Tensor mean = flat.slice(0, 0, total) / static_cast<float>(weight_sum);
  unflatten_into(mean, tensors);
  stats.elements = total;
  return stats;
}

}  // namespace flotilla
