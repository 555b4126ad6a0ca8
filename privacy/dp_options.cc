#include "privacy/dp_options.h"

#include <cmath>

namespace flotilla {
namespace {

Status check_range(bool ok, const std::string& key, const std::string& bound, double value) {
  if (ok) return Status();
  return invalid_argument_error("--dp-opt " + key + " must be " + bound + " (got " + canonical_number(value) + ")");
}

}  // namespace

std::string to_string(DpMode mode) {
  switch (mode) {
    case DpMode::kCentral:
      return "central";
    case DpMode::kLocal:
      return "local";
    case DpMode::kOff:
      break;
  }
  return "off";
}

std::vector<OptionSpec> dp_option_specs() {
  const DpOptions d;
  return {{"noise_multiplier", canonical_number(d.noise_multiplier),
           "z: noise standard deviation in clip norms (of the sum: central; of each update: local); > 0"},
          {"clip_norm", canonical_number(d.clip_norm), "C: L2 norm updates are clipped to (initial, if adaptive); > 0"},
          {"delta", canonical_number(d.delta), "delta of the (epsilon, delta) reported; in (0, 1)"},
          {"target_epsilon", canonical_number(d.target_epsilon),
           "stop before the round that would exceed this epsilon; 0 = never"},
          {"adaptive", "false", "central: clip at a noisy quantile of update norms (Andrew et al. 2021)"},
          {"target_quantile", canonical_number(d.target_quantile), "adaptive: share of updates left unclipped; (0, 1)"},
          {"clip_lr", canonical_number(d.clip_lr), "adaptive: geometric step of the clip norm; > 0"},
          {"count_noise_multiplier", canonical_number(d.count_noise_multiplier),
           "adaptive: noise of the unclipped count; 0 = expected clients per round / 20"}};
}

StatusOr<DpOptions> dp_options_from(const std::string& mode, Options options) {
  DpOptions o;
  if (mode == "off") {
    if (!options.values().empty()) return invalid_argument_error("--dp-opt needs --dp central or --dp local");
    return o;
  }
  if (mode == "central") {
    o.mode = DpMode::kCentral;
  } else if (mode == "local") {
    o.mode = DpMode::kLocal;
  } else {
    return invalid_argument_error("--dp must be off, central or local (got '" + mode + "')");
  }
  RETURN_IF_ERROR(options.apply_specs("dp", dp_option_specs()));
  ASSIGN_OR_RETURN(o.noise_multiplier, options.get_double("noise_multiplier"));
  ASSIGN_OR_RETURN(o.clip_norm, options.get_double("clip_norm"));
  ASSIGN_OR_RETURN(o.delta, options.get_double("delta"));
  ASSIGN_OR_RETURN(o.target_epsilon, options.get_double("target_epsilon"));
  ASSIGN_OR_RETURN(o.adaptive, options.get_bool("adaptive"));
  ASSIGN_OR_RETURN(o.target_quantile, options.get_double("target_quantile"));
  ASSIGN_OR_RETURN(o.clip_lr, options.get_double("clip_lr"));
  ASSIGN_OR_RETURN(o.count_noise_multiplier, options.get_double("count_noise_multiplier"));
  // The noise is what makes the run private: zero noise would report an infinite epsilon every round.
  RETURN_IF_ERROR(check_range(std::isfinite(o.noise_multiplier) && o.noise_multiplier > 0, "noise_multiplier",
                              "> 0 and finite", o.noise_multiplier));
  RETURN_IF_ERROR(
      check_range(std::isfinite(o.clip_norm) && o.clip_norm > 0, "clip_norm", "> 0 and finite", o.clip_norm));
  RETURN_IF_ERROR(check_range(o.delta > 0 && o.delta < 1, "delta", "in (0, 1)", o.delta));
  RETURN_IF_ERROR(check_range(std::isfinite(o.target_epsilon) && o.target_epsilon >= 0, "target_epsilon",
                              ">= 0 and finite", o.target_epsilon));
  RETURN_IF_ERROR(
      check_range(o.target_quantile > 0 && o.target_quantile < 1, "target_quantile", "in (0, 1)", o.target_quantile));
  RETURN_IF_ERROR(check_range(std::isfinite(o.clip_lr) && o.clip_lr > 0, "clip_lr", "> 0 and finite", o.clip_lr));
  RETURN_IF_ERROR(check_range(std::isfinite(o.count_noise_multiplier) && o.count_noise_multiplier >= 0,
                              "count_noise_multiplier", ">= 0 and finite", o.count_noise_multiplier));
  if (o.adaptive && o.mode == DpMode::kLocal)
    return invalid_argument_error(
        "--dp-opt adaptive=true is for --dp central: the clip norm is learnt from a noisy count the coordinator "
        "sums, which local DP has no trusted party to add");
  return o;
}

std::map<std::string, std::string> to_map(const DpOptions& o) {
  return {{"noise_multiplier", canonical_number(o.noise_multiplier)},
          {"clip_norm", canonical_number(o.clip_norm)},
          {"delta", canonical_number(o.delta)},
          {"target_epsilon", canonical_number(o.target_epsilon)},
          {"adaptive", o.adaptive ? "true" : "false"},
          {"target_quantile", canonical_number(o.target_quantile)},
          {"clip_lr", canonical_number(o.clip_lr)},
          {"count_noise_multiplier", canonical_number(o.count_noise_multiplier)}};
}

}  // namespace flotilla
