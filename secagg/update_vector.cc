#include "secagg/update_vector.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>

#include "privacy/gaussian_noise.h"
#include "secagg/fixed_point.h"

namespace flotilla::secagg {
namespace {

constexpr const char* kTailEntry = "secagg/tail";
constexpr const char* kExtraPrefix = "extra/";

// The words of `t` (an int64 tensor) appended to `out`.
void append_words(const at::Tensor& t, std::vector<uint64_t>& out) {
  const at::Tensor flat = t.contiguous();
  const size_t first = out.size();
  out.resize(first + static_cast<size_t>(flat.numel()));
  if (flat.numel() > 0) std::memcpy(out.data() + first, flat.data_ptr<int64_t>(), flat.numel() * sizeof(int64_t));
}

at::Tensor words_tensor(std::span<const uint64_t> words) {
  at::Tensor t = at::empty({static_cast<int64_t>(words.size())}, at::kLong);
  if (!words.empty()) std::memcpy(t.data_ptr<int64_t>(), words.data(), words.size() * sizeof(uint64_t));
  return t;
}

}  // namespace

UpdateLayout::UpdateLayout(const ModelState& global, const ModelState& extras, bool report_unclipped)
    : report_unclipped_(report_unclipped) {
  for (const auto& e : global.entries()) {
    if (!e.tensor.is_floating_point()) continue;
    entries_.emplace_back(e.name, e.tensor.numel());
    body_ += e.tensor.numel();
  }
  for (const auto& e : extras.entries()) {
    entries_.emplace_back(kExtraPrefix + e.name, e.tensor.numel());
    extras_ += e.tensor.numel();
  }
}

ModelState UpdateLayout::to_state(std::span<const uint64_t> words) const {
  ModelState state;
  size_t offset = 0;
  for (const auto& [name, count] : entries_) {
    state.add(name, words_tensor(words.subspan(offset, static_cast<size_t>(count))));
    offset += static_cast<size_t>(count);
  }
  state.add(kTailEntry, words_tensor(words.subspan(offset)));
  return state;
}

StatusOr<std::vector<uint64_t>> UpdateLayout::from_state(const ModelState& state) const {
  if (state.size() != entries_.size() + 1)
    return invalid_argument_error("masked input has " + std::to_string(state.size()) +
                                  " tensors; the model's layout has " + std::to_string(entries_.size() + 1));
  std::vector<uint64_t> words;
  words.reserve(static_cast<size_t>(length()));
  for (size_t i = 0; i <= entries_.size(); ++i) {
    const bool tail_entry = i == entries_.size();
    const std::string expected = tail_entry ? kTailEntry : entries_[i].first;
    const int64_t count = tail_entry ? tail() : entries_[i].second;
    const NamedTensor& e = state[i];
    if (e.name != expected || e.tensor.scalar_type() != at::kLong || e.tensor.numel() != count)
      return invalid_argument_error("masked input tensor " + std::to_string(i) + " is '" + e.name + "' with " +
                                    std::to_string(e.tensor.numel()) + " elements; expected int64 '" + expected +
                                    "' with " + std::to_string(count));
    append_words(e.tensor, words);
  }
  return words;
}

StatusOr<EncodedUpdate> encode_update(const ModelState& global, const ModelState& trained, const ModelState& extras,
                                      int64_t num_samples, const msg::SecureAggregationTask& task,
                                      uint64_t noise_seed) {
  RETURN_IF_ERROR(trained.check_same_layout(global).with_context("secure aggregation"));
  if (task.extras_bound <= 0 && !extras.empty())
    return invalid_argument_error("the update carries extras ('" + extras[0].name +
                                  "') but the round's secure aggregation takes none");
  const ModelState no_extras;
  const ModelState& summed = task.extras_bound > 0 ? extras : no_extras;
  const UpdateLayout layout(global, summed, task.report_unclipped);
  // The delta over the floating entries, flat, in float64.
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < global.size(); ++i) {
    if (!global[i].tensor.is_floating_point()) continue;
    parts.push_back(
        at::sub(trained[i].tensor.to(at::kCPU, at::kDouble), global[i].tensor.to(at::kCPU, at::kDouble)).flatten());
  }
  at::Tensor delta = parts.empty() ? at::zeros({0}, at::kDouble) : at::cat(parts);
  EncodedUpdate out;
  out.norm = delta.numel() > 0 ? delta.norm().item<double>() : 0.0;
  if (!std::isfinite(out.norm)) return invalid_argument_error("the update is not finite; nothing to aggregate");
  out.within_clip_norm = out.norm <= task.clip_norm;
  if (!out.within_clip_norm) delta.mul_(task.clip_norm / out.norm);
  if (task.noise_stddev > 0) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(noise_seed);
    delta.add_(at::empty_like(delta).normal_(0.0, task.noise_stddev, generator));
  }
  const double weight = task.equal_weights ? 1.0 : static_cast<double>(num_samples);
  delta.mul_(weight);
  std::vector<double> values(static_cast<size_t>(layout.length()));
  if (delta.numel() > 0) std::memcpy(values.data(), delta.data_ptr<double>(), delta.numel() * sizeof(double));
  // The extras, unweighted: the rule sums them (SCAFFOLD's c moves by the sum of the delta_c).
  size_t at_extra = static_cast<size_t>(layout.body());
  for (const auto& e : summed.entries()) {
    const at::Tensor flat = e.tensor.to(at::kCPU, at::kDouble).contiguous().flatten();
    const double largest = flat.numel() > 0 ? flat.abs().max().item<double>() : 0.0;
    if (!(largest <= task.extras_bound))
      return invalid_argument_error("extra '" + e.name + "' has an element of magnitude " + std::to_string(largest) +
                                    ", beyond the secure aggregation's extras bound " +
                                    std::to_string(task.extras_bound) + " (--secagg-opt extras_bound)");
    if (flat.numel() > 0)
      std::memcpy(values.data() + at_extra, flat.data_ptr<double>(),
                  static_cast<size_t>(flat.numel()) * sizeof(double));
    at_extra += static_cast<size_t>(flat.numel());
  }
  const size_t tail = static_cast<size_t>(layout.body() + layout.extras());
  values[tail] = weight;
  if (task.report_unclipped) {
    double bit = out.within_clip_norm ? 1.0 : 0.0;
    if (task.count_noise_stddev > 0)
      bit += gaussian_draw(task.count_noise_stddev, noise_seed ^ 0x434f554e54ULL);  // "COUNT": a stream of its own
    values[tail + 1] = bit;
  }
  ASSIGN_OR_RETURN(out.words, FixedPoint(task.fraction_bits, task.bound).encode(values));
  return out;
}

StatusOr<DecodedSum> decode_sum(const ModelState& global, const ModelState& extras, const UpdateLayout& layout,
                                int fraction_bits, double bound, std::span<const uint64_t> sum) {
  if (static_cast<int64_t>(sum.size()) != layout.length())
    return invalid_argument_error("secure sum has " + std::to_string(sum.size()) + " words; the layout has " +
                                  std::to_string(layout.length()));
  const std::vector<double> values = FixedPoint(fraction_bits, bound).decode(sum);
  DecodedSum out;
  size_t offset = 0;
  for (const auto& e : global.entries()) {
    if (!e.tensor.is_floating_point()) {
      out.weighted_delta.add(e.name, at::zeros(e.tensor.sizes(), at::kDouble));
      continue;
    }
    at::Tensor t = at::empty({e.tensor.numel()}, at::kDouble);
    std::memcpy(t.data_ptr<double>(), values.data() + offset, static_cast<size_t>(e.tensor.numel()) * sizeof(double));
    out.weighted_delta.add(e.name, t.view(e.tensor.sizes()));
    offset += static_cast<size_t>(e.tensor.numel());
  }
  for (const auto& e : extras.entries()) {
    at::Tensor t = at::empty({e.tensor.numel()}, at::kDouble);
    std::memcpy(t.data_ptr<double>(), values.data() + offset, static_cast<size_t>(e.tensor.numel()) * sizeof(double));
    out.extras.add(e.name, t.view(e.tensor.sizes()));
    offset += static_cast<size_t>(e.tensor.numel());
  }
  out.weight = values[offset];
  if (layout.tail() > 1) out.unclipped = values[offset + 1];
  return out;
}

}  // namespace flotilla::secagg
