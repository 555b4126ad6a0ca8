// The vector a client masks under secure aggregation, and the way back from the round's sum.
//
// Layout (from the global model and the rule's extras; both sides compute it): every
// floating-point entry of the state, flattened in the state's order, then the extras' entries
// (SCAFFOLD's delta_c, when the rule takes them summed), then a tail of [weight] and, under
// adaptive clipping, [unclipped]. A client's vector is w * clip(trained - global) (+ its share of
// the DP noise), its extras unweighted, and its weight w (its sample count, or 1 when every update
// weighs the same), each element within the task's bound, in the fixed-point ring of
// secagg/fixed_point.h. The sum of the survivors' vectors is then sum_i w_i * delta_i, the sum of
// their extras and sum_i w_i, all the coordinator learns. Integer entries (BatchNorm's counters)
// are not in the vector: the aggregate keeps the global model's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/model_state.h"
#include "core/status.h"
#include "protocol/messages.h"

namespace flotilla::secagg {

class UpdateLayout {
 public:
  // `extras`: the layout of the extras every client adds (empty: none).
  UpdateLayout(const ModelState& global, const ModelState& extras, bool report_unclipped);

  // Words in the vector: the floating entries' elements, the extras', the tail.
  int64_t length() const { return body_ + extras_ + tail(); }
  int64_t body() const { return body_; }
  int64_t extras() const { return extras_; }
  int64_t tail() const { return report_unclipped_ ? 2 : 1; }

  // Masked words as int64 tensors, one per floating entry (its name, flat), per extra
  // ("extra/<name>") and "secagg/tail",
  // for the wire (msg::SecAggStep::masked), and back: InvalidArgument naming an entry that is
  // missing, extra or of the wrong length.
  ModelState to_state(std::span<const uint64_t> words) const;
  StatusOr<std::vector<uint64_t>> from_state(const ModelState& state) const;

  const std::vector<std::pair<std::string, int64_t>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, int64_t>> entries_;  // floating entries, then extras: name, elements
  int64_t body_ = 0;
  int64_t extras_ = 0;
  bool report_unclipped_;
};

// What a client masks, and what it may say of its update in the clear.
struct EncodedUpdate {
  std::vector<uint64_t> words;
  double norm = 0.0;  // of the delta before clipping
  bool within_clip_norm = true;
};

// Encodes one client's update (and its `extras`, when task.extras_bound > 0) as the task says
// (clip, weight, noise share, fixed point). `noise_seed` must be secret (privacy/gaussian_noise.h
// secret_seed()) when the task asks for noise. InvalidArgument when an element falls outside the
// task's bound (a weight over what the coordinator planned for, an extra beyond extras_bound) or
// the update is not finite.
StatusOr<EncodedUpdate> encode_update(const ModelState& global, const ModelState& trained, const ModelState& extras,
                                      int64_t num_samples, const msg::SecureAggregationTask& task, uint64_t noise_seed);

// The round's sum, decoded: sum_i w_i * delta_i over the floating entries (float64 tensors shaped
// like the global model's), the sum of the extras (float64, shaped like `extras`), sum_i w_i, and
// under adaptive clipping the (noised) count of updates within the clip norm.
struct DecodedSum {
  ModelState weighted_delta;
  ModelState extras;
  double weight = 0.0;
  double unclipped = 0.0;
};
StatusOr<DecodedSum> decode_sum(const ModelState& global, const ModelState& extras, const UpdateLayout& layout,
                                int fraction_bits, double bound, std::span<const uint64_t> sum);

}  // namespace flotilla::secagg
