#include "coordinator/privacy_stage.h"

#include <cstdio>

#include "coordinator/client_sampler.h"

namespace flotilla {

PrivacyStage::PrivacyStage(const DpFedAvg& rule, double sampling_rate) : rule_(rule), sampling_rate_(sampling_rate) {
  const DpOptions& o = rule_.options();
  if (o.mode == DpMode::kCentral)
    one_round_.compose(sampling_rate_, o.noise_multiplier);
  else  // replacing one client's data moves its clipped update by up to 2C: noise z*C is z/2 sensitivities
    one_round_.compose(1.0, o.noise_multiplier / 2);
}

std::vector<int> PrivacyStage::sample(const std::vector<int>& available, std::vector<int> fixed, int round) const {
  if (rule_.options().mode != DpMode::kCentral) return fixed;
  return poisson_sample_clients(available, sampling_rate_, rule_.sampling_seed(), round);
}

void PrivacyStage::prepare_task(msg::RoundTask& task) const {
  const DpOptions& o = rule_.options();
  task.privacy.clip_norm = rule_.clip_norm();
  task.privacy.noise_stddev = o.mode == DpMode::kLocal ? o.noise_multiplier * rule_.clip_norm() : 0.0;
  task.privacy.report_unclipped = o.adaptive;
}

double PrivacyStage::epsilon_after(int rounds) const {
  if (rounds <= 0) return 0.0;
  std::vector<double> rdp = one_round_.rdp();  // rounds compose by adding RDP
  for (double& r : rdp) r *= rounds;
  return epsilon_from_rdp(one_round_.orders(), rdp, rule_.options().delta).epsilon;
}

std::optional<std::string> PrivacyStage::stop_before(int round) const {
  const DpOptions& o = rule_.options();
  if (o.target_epsilon <= 0) return std::nullopt;
  const double next = epsilon_after(round);
  if (next <= o.target_epsilon) return std::nullopt;
  char text[256];
  std::snprintf(text, sizeof text,
                "stopping before round %d: it would take epsilon to %.4f, past --dp-opt target_epsilon=%g "
                "(delta %g); epsilon after %d round(s) is %.4f",
                round, next, o.target_epsilon, o.delta, round - 1, epsilon_after(round - 1));
  return std::string(text);
}

void PrivacyStage::record(RoundMetrics& metrics) const {
  const DpOptions& o = rule_.options();
  const DpFedAvg::RoundReport& r = rule_.last_round();
  metrics.policy["epsilon"] = epsilon_after(metrics.round);
  metrics.policy["dp_delta"] = o.delta;
  metrics.policy["dp_clip_norm"] = r.clip_norm;
  metrics.policy["dp_noise_stddev"] = o.mode == DpMode::kLocal ? o.noise_multiplier * r.clip_norm : r.noise_stddev;
  metrics.policy["dp_updates"] = r.updates;
  metrics.policy["dp_clipped_by_server"] = r.clipped_by_server;
  if (o.adaptive) {
    metrics.policy["dp_clipped"] = r.clipped;
    metrics.policy["dp_unclipped_share"] = r.unclipped_share;
    metrics.policy["dp_next_clip_norm"] = rule_.clip_norm();
  }
}

}  // namespace flotilla
