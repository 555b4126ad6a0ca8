#include "privacy/dp_fedavg.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>

#include "aggregators/exact_weighted_sum.h"
#include "aggregators/update_fold.h"
#include "compression/delta.h"
#include "partitioners/random.h"
#include "privacy/gaussian_noise.h"
#include "privacy/update_clipping.h"

namespace flotilla {
namespace {

constexpr const char* kInnerPrefix = "inner/";
constexpr const char* kClipNormState = "dp/clip_norm";
constexpr const char* kNoiseKeyState = "dp/noise_key";
// An update the client clipped can exceed C by its rounding: only beyond this is it the server's clip.
constexpr double kClipSlack = 1e-4;
// Streams of the noise key: the update's noise and the unclipped count's, per round.
constexpr uint64_t kUpdateNoiseStream = 0x44505550ULL;  // "DPUP"
constexpr uint64_t kCountNoiseStream = 0x44504354ULL;   // "DPCT"
constexpr uint64_t kSamplingStream = 0x44505341ULL;     // "DPSA"

uint64_t round_seed(uint64_t key, uint64_t stream, int round) {
  return derive_seed(derive_seed(key, stream), static_cast<uint64_t>(round));
}

// The update without the DP extra, as the wrapped rule expects it.
ClientUpdate without_dp_extra(const ClientUpdate& update) {
  ClientUpdate stripped(update.client_id, update.num_samples, update.state, update.train_loss, update.steps);
  for (const auto& e : update.extras.entries())
    if (e.name != kUnclippedExtra) stripped.extras.add(e.name, e.tensor);
  return stripped;
}

}  // namespace

class DpFedAvg::Fold final : public UpdateFold {
 public:
  Fold(DpFedAvg& owner, const ModelState& global) : owner_(owner), global_(global), sum_(global) {}

  Status add(const ClientUpdate& update) override {
    const bool central = owner_.options_.mode == DpMode::kCentral;
    ASSIGN_OR_RETURN(ModelState delta, compute_delta(update.state, global_));
    // Counters (integer tensors) are not released: they stay at the global model's value.
    for (auto& e : delta.mutable_entries())
      if (!e.tensor.is_floating_point()) e.tensor = at::zeros_like(e.tensor);
    bool over = false;
    if (central) {
      // Clients clip; clipping again here bounds the sensitivity whatever a client did.
      const double norm = clip_update(delta, owner_.clip_norm_);
      if (norm > owner_.clip_norm_ * (1 + kClipSlack)) {
        over = true;
        ++clipped_by_server_;
      }
    }
    if (owner_.options_.adaptive) {
      const at::Tensor* bit = update.extras.find(kUnclippedExtra);
      over = bit != nullptr && bit->item<double>() == 0.0;
    }
    RETURN_IF_ERROR(sum_.add(delta, 1).with_context("client " + std::to_string(update.client_id)));
    if (over) ++clipped_;
    return Status();
  }

  int count() const override { return static_cast<int>(sum_.count()); }
  int64_t inexact_elements() const override { return sum_.inexact_elements(); }

  StatusOr<ModelState> finish(const AggregationRound& round) override {
    const DpOptions& o = owner_.options_;
    const bool central = o.mode == DpMode::kCentral;
    const double clip_norm = owner_.clip_norm_;
    // The mean delta: over the fixed denominator qN (central), over the updates received (local).
    ModelState mean;
    if (sum_.count() > 0) {
      ASSIGN_OR_RETURN(mean, sum_.mean());
    } else {
      for (const auto& e : global_.entries()) mean.add(e.name, at::zeros_like(e.tensor, at::device(at::kCPU)));
    }
    double noise_stddev = 0.0;
    if (central) {
      const double scale = static_cast<double>(sum_.count()) / owner_.expected_clients_;
      for (auto& e : mean.mutable_entries())
        if (e.tensor.is_floating_point()) e.tensor = at::mul(e.tensor.to(at::kDouble), scale);
      noise_stddev = owner_.update_noise_multiplier_ * clip_norm / owner_.expected_clients_;
      add_gaussian_noise(mean, noise_stddev, round_seed(owner_.noise_key_, kUpdateNoiseStream, round.round));
    }
    RoundReport report;
    report.updates = static_cast<int>(sum_.count());
    report.clipped = clipped_;
    report.clipped_by_server = clipped_by_server_;
    report.clip_norm = clip_norm;
    report.noise_stddev = noise_stddev;
    double noisy_unclipped = 0.0;
    if (o.adaptive)
      noisy_unclipped =
          report.updates - clipped_ +
          gaussian_draw(owner_.count_noise_stddev_, round_seed(owner_.noise_key_, kCountNoiseStream, round.round));
    return owner_.step(round, mean, report, noisy_unclipped);
  }

 private:
  DpFedAvg& owner_;
  const ModelState& global_;
  ExactWeightedSum sum_;
  int clipped_ = 0;
  int clipped_by_server_ = 0;
};

DpFedAvg::DpFedAvg(std::unique_ptr<Aggregator> inner, std::string inner_name, DpOptions options,
                   double expected_clients, uint64_t noise_key)
    : inner_(std::move(inner)),
      inner_name_(std::move(inner_name)),
      options_(options),
      expected_clients_(expected_clients),
      noise_key_(noise_key),
      clip_norm_(options.clip_norm),
      update_noise_multiplier_(options.noise_multiplier) {
  if (options_.adaptive) {
    count_noise_stddev_ =
        options_.count_noise_multiplier > 0 ? options_.count_noise_multiplier : expected_clients_ / 20.0;
    const double z = options_.noise_multiplier;
    const double rest = 1.0 / (z * z) - 1.0 / (4.0 * count_noise_stddev_ * count_noise_stddev_);
    update_noise_multiplier_ = rest > 0 ? 1.0 / std::sqrt(rest) : std::numeric_limits<double>::infinity();
  }
}

StatusOr<ModelState> DpFedAvg::step(const AggregationRound& round, const ModelState& mean, RoundReport report,
                                    double noisy_unclipped) {
  const ModelState& global = *round.global;
  // global + noised mean delta, as the round's one update to the wrapped rule.
  ModelState next = add_floating_delta(global, mean);
  std::unique_ptr<UpdateFold> inner = inner_->begin_fold(global);
  RETURN_IF_ERROR(inner->add(ClientUpdate(0, 1, std::move(next))).with_context("DP-FedAvg's noised mean"));
  ASSIGN_OR_RETURN(ModelState stepped, inner->finish(round));
  if (options_.adaptive) {
    // Andrew et al. (2021), Algorithm 1: the noisy share of updates within C moves C geometrically.
    report.unclipped_share = noisy_unclipped / expected_clients_;
    clip_norm_ = report.clip_norm * std::exp(-options_.clip_lr * (report.unclipped_share - options_.target_quantile));
  }
  last_round_ = report;
  return stepped;
}

StatusOr<ModelState> DpFedAvg::aggregate_noised_sum(const AggregationRound& round, const ModelState& delta_sum,
                                                    int contributors, double noisy_unclipped) {
  if (options_.mode != DpMode::kCentral)
    return failed_precondition_error("a noised sum is DP-FedAvg's central mode under secure aggregation");
  if (delta_sum.size() != round.global->size())
    return invalid_argument_error("secure aggregation's sum has " + std::to_string(delta_sum.size()) +
                                  " tensors, the model " + std::to_string(round.global->size()));
  ModelState mean;
  for (const auto& e : delta_sum.entries()) mean.add(e.name, at::div(e.tensor.to(at::kDouble), expected_clients_));
  RoundReport report;
  report.updates = contributors;
  report.clip_norm = clip_norm_;
  report.noise_stddev = update_noise_multiplier_ * clip_norm_ / expected_clients_;
  return step(round, mean, report, noisy_unclipped);
}

Status DpFedAvg::prepare(const AlgorithmSetup& setup) {
  if (!(expected_clients_ > 0))
    return invalid_argument_error("--dp needs a positive expected number of clients per round (--fraction)");
  if (options_.mode == DpMode::kCentral && std::isinf(update_noise_multiplier_))
    return invalid_argument_error(
        "--dp-opt count_noise_multiplier " + std::to_string(count_noise_stddev_) +
        " leaves no noise for the update: adaptive clipping needs 2 * count_noise_multiplier > noise_multiplier " +
        std::to_string(options_.noise_multiplier));
  RETURN_IF_ERROR(inner_->prepare(setup));
  if (setup.initial == nullptr) return invalid_argument_error("--dp: no initial model");
  if (!inner_->begin_fold(*setup.initial))
    return failed_precondition_error("--dp cannot run aggregator '" + inner_name_ +
                                     "': it needs every client's update as it is (a median, a trimmed mean, Krum), "
                                     "which differential privacy must hide; use an averaging rule (fedavg, fedavgm, "
                                     "fedadam, fedyogi, fedadagrad, fedprox)");
  const ModelState extras = inner_->expected_update_extras();
  if (!extras.empty())
    return failed_precondition_error("--dp cannot run aggregator '" + inner_name_ + "': its clients send extras ('" +
                                     extras[0].name +
                                     "') beside the model, which DP-FedAvg neither clips nor noises; use an averaging "
                                     "rule (fedavg, fedavgm, fedadam, fedyogi, fedadagrad, fedprox)");
  return Status();
}

std::unique_ptr<UpdateFold> DpFedAvg::begin_fold(const ModelState& global) {
  return std::make_unique<Fold>(*this, global);
}

ModelState DpFedAvg::expected_update_extras() const {
  ModelState extras;
  if (options_.adaptive) extras.add(kUnclippedExtra, at::zeros({}, at::kFloat));
  return extras;
}

Status DpFedAvg::check_update(const ClientUpdate& update) const {
  if (options_.adaptive) {
    const at::Tensor* bit = update.extras.find(kUnclippedExtra);
    if (bit == nullptr) return invalid_argument_error(std::string("update lacks the extra '") + kUnclippedExtra + "'");
    const double value = bit->item<double>();
    if (value != 0.0 && value != 1.0)
      return invalid_argument_error(std::string("extra '") + kUnclippedExtra + "' must be 0 or 1 (got " +
                                    std::to_string(value) + ")");
  }
  return inner_->check_update(without_dp_extra(update));
}

uint64_t DpFedAvg::sampling_seed() const { return derive_seed(noise_key_, kSamplingStream); }

StatusOr<ModelState> DpFedAvg::aggregate(const AggregationRound& round) { return aggregate_by_folding(*this, round); }

ModelState DpFedAvg::save_state() const {
  ModelState state;
  const ModelState inner = inner_->save_state();
  for (const auto& e : inner.entries()) state.add(kInnerPrefix + e.name, e.tensor.clone());
  state.add(kClipNormState, at::scalar_tensor(clip_norm_, at::kDouble));
  int64_t key = 0;
  std::memcpy(&key, &noise_key_, sizeof key);
  state.add(kNoiseKeyState, at::scalar_tensor(key, at::kLong));
  return state;
}

Status DpFedAvg::restore_state(const ModelState& state) {
  if (state.empty()) return inner_->restore_state(state);
  ModelState inner;
  const at::Tensor* clip = nullptr;
  const at::Tensor* key = nullptr;
  for (const auto& e : state.entries()) {
    if (e.name.rfind(kInnerPrefix, 0) == 0) {
      inner.add(e.name.substr(std::strlen(kInnerPrefix)), e.tensor);
    } else if (e.name == kClipNormState && e.tensor.dim() == 0 && e.tensor.scalar_type() == at::kDouble) {
      clip = &e.tensor;
    } else if (e.name == kNoiseKeyState && e.tensor.dim() == 0 && e.tensor.scalar_type() == at::kLong) {
      key = &e.tensor;
    } else {
      return invalid_argument_error("DP-FedAvg state: unexpected tensor '" + e.name + "'");
    }
  }
  if (clip == nullptr || key == nullptr)
    return invalid_argument_error(std::string("DP-FedAvg state lacks '") + (clip ? kNoiseKeyState : kClipNormState) +
                                  "'");
  const double clip_norm = clip->item<double>();
  if (!(std::isfinite(clip_norm) && clip_norm > 0))
    return invalid_argument_error("DP-FedAvg state: clip norm " + std::to_string(clip_norm) + " is not > 0");
  RETURN_IF_ERROR(inner_->restore_state(inner));
  clip_norm_ = clip_norm;
  const int64_t k = key->item<int64_t>();
  std::memcpy(&noise_key_, &k, sizeof k);
  return Status();
}

}  // namespace flotilla
