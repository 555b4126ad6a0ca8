#include "coordinator/secure_aggregation_stage.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "compression/delta.h"
#include "core/log.h"
#include "partitioners/random.h"
#include "secagg/fixed_point.h"

namespace flotilla {
namespace {

// Gaussian noise shares are bounded at this many standard deviations when sizing the ring (a
// draw beyond it, about 1e-23 per element, fails the client's encoding with a message).
constexpr double kNoiseSpan = 10.0;

}  // namespace

SecureAggregationStage::SecureAggregationStage(SecAggOptions options, DpFedAvg* dp, const RoundStage* inner,
                                               int64_t max_weight, uint64_t graph_key, ModelState summed_extras)
    : options_(std::move(options)),
      dp_(dp),
      inner_(inner ? *inner : plain_rounds_),
      max_weight_(std::max<int64_t>(1, max_weight)),
      graph_key_(graph_key),
      summed_extras_(std::move(summed_extras)) {}

bool takes_summed_extras(const std::string& name) { return name == "scaffold"; }

int SecureAggregationStage::threshold_for(int participants) const {
  int degree = participants - 1;
  if (options_.neighbours > 0) degree = std::min(degree, options_.neighbours + options_.neighbours % 2);
  return std::max(2, static_cast<int>(std::ceil(options_.threshold * degree - 1e-9)));
}

StatusOr<std::unique_ptr<SecureRound>> SecureAggregationStage::open_secure_round(int round,
                                                                                 const std::vector<int>& participants,
                                                                                 const ModelState& global) const {
  const int n = static_cast<int>(participants.size());
  const int t = threshold_for(n);
  if (n < 3 || t > n - 1)
    return failed_precondition_error(
        "round " + std::to_string(round) + ": secure aggregation needs at least 3 clients " +
        "in a round (a threshold of 2 among at least 2 neighbours each); " + std::to_string(n) + " were sampled");
  msg::SecureAggregationTask s;
  s.participants = participants;
  std::sort(s.participants.begin(), s.participants.end());
  s.threshold = t;
  s.neighbours = options_.neighbours >= n - 1 ? 0 : options_.neighbours;
  s.graph_seed = derive_seed(graph_key_, static_cast<uint64_t>(round));
  double weight = static_cast<double>(max_weight_);
  double count_bound = 0.0;
  if (dp_) {
    // Central DP: equal weights, the DP clip norm, and each client's share of the noise sized so
    // that any t of them carry the whole of it.
    s.equal_weights = true;
    weight = 1.0;
    s.clip_norm = dp_->clip_norm();
    s.noise_stddev = dp_->update_noise_multiplier() * s.clip_norm / std::sqrt(static_cast<double>(t));
    if (dp_->options().adaptive) {
      s.report_unclipped = true;
      s.count_noise_stddev = dp_->count_noise_stddev() / std::sqrt(static_cast<double>(t));
      count_bound = 1.0 + kNoiseSpan * s.count_noise_stddev;
    }
  } else {
    s.clip_norm = options_.clip_norm;
  }
  // |w * (clipped delta + noise)| per element, the weight itself, the count: the bound each client's
  // elements stay within, so that the sum of n of them cannot wrap.
  if (!summed_extras_.empty()) s.extras_bound = options_.extras_bound;
  const double bound =
      std::max({weight * (s.clip_norm + kNoiseSpan * s.noise_stddev), weight, count_bound, s.extras_bound});
  ASSIGN_OR_RETURN(secagg::FixedPoint encoding, secagg::FixedPoint::for_sum(n, bound));
  s.fraction_bits = encoding.fraction_bits();
  s.bound = bound;
  secagg::UpdateLayout layout(global, summed_extras_, s.report_unclipped);
  secagg::SecAggParams params{round, t, static_cast<size_t>(layout.length()), s.neighbours, s.graph_seed};
  return std::make_unique<SecureRound>(params, std::move(s), std::move(layout), options_.stage_timeout_s);
}

StatusOr<ModelState> SecureAggregationStage::aggregate_secure_sum(const SecureRound& secure,
                                                                  const AggregationRound& round,
                                                                  Aggregator& rule) const {
  ASSIGN_OR_RETURN(std::vector<uint64_t> words, secure.sum());
  if (round.round == 1 && !options_.record_masked_input.empty() && !secure.first_masked_input().empty()) {
    const auto& masked = secure.first_masked_input();
    std::ofstream out(options_.record_masked_input, std::ios::binary);
    out.write(reinterpret_cast<const char*>(masked.data()), static_cast<std::streamsize>(masked.size() * 8));
    if (!out)
      FLOTILLA_LOG(Warning) << "could not write --secagg-opt record_masked_input=" << options_.record_masked_input;
  }
  const msg::SecureAggregationTask& task = secure.task();
  const ModelState& global = *round.global;
  ASSIGN_OR_RETURN(secagg::DecodedSum sum,
                   secagg::decode_sum(global, summed_extras_, secure.layout(), task.fraction_bits, task.bound, words));
  if (dp_) return dp_->aggregate_noised_sum(round, sum.weighted_delta, secure.masked(), sum.unclipped);
  // The round as the rule's fold would see one update: global + sum / weights, with the weights.
  const double weight = std::round(sum.weight);
  if (!(weight >= 1))
    return failed_precondition_error("secure aggregation's sum carries a total weight of " +
                                     std::to_string(sum.weight));
  ModelState mean_model = add_floating_delta(global, sum.weighted_delta, weight);
  ClientUpdate summed(0, static_cast<int64_t>(weight), std::move(mean_model));
  if (!summed_extras_.empty()) {
    // A rule that sums its clients' extras gets them summed, in their own dtypes.
    for (size_t i = 0; i < summed_extras_.size(); ++i)
      summed.extras.add(summed_extras_[i].name, sum.extras[i].tensor.to(summed_extras_[i].tensor.scalar_type()));
    AggregationRound one = round;
    one.updates = std::span<const ClientUpdate>(&summed, 1);
    return rule.aggregate(one);
  }
  std::unique_ptr<UpdateFold> fold = rule.begin_fold(global);
  if (!fold) return failed_precondition_error("the rule cannot take a sum (it needs every update)");
  RETURN_IF_ERROR(fold->add(summed).with_context("secure aggregation's sum"));
  return fold->finish(round);
}

}  // namespace flotilla
