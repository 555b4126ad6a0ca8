#include "secagg/secagg_options.h"

#include <cmath>

namespace flotilla {
namespace {

Status check_secagg_range(bool ok, const std::string& key, const std::string& bound, double value) {
  if (ok) return Status();
  return invalid_argument_error("--secagg-opt " + key + " must be " + bound + " (got " + canonical_number(value) + ")");
}

}  // namespace

std::vector<OptionSpec> secagg_option_specs() {
  const SecAggOptions d;
  return {{"threshold", canonical_number(d.threshold),
           "share of a client's neighbours whose shares rebuild its secrets (t); in (0, 1]"},
          {"neighbours", std::to_string(d.neighbours), "k of SecAgg+ (random k-regular graph); 0 = every other client"},
          {"clip_norm", canonical_number(d.clip_norm), "L2 norm each delta is clipped to (without --dp); > 0"},
          {"stage_timeout", canonical_number(d.stage_timeout_s), "seconds each protocol stage waits; > 0"},
          {"max_weight", std::to_string(d.max_weight),
           "largest sample weight of a client; 0 = the largest training set known"},
          {"extras_bound", canonical_number(d.extras_bound),
           "largest |element| of a summed extra (SCAFFOLD's delta_c); > 0"},
          {"record_masked_input", "", "audit: write round 1's first masked input here (raw 64-bit words)"}};
}

StatusOr<SecAggOptions> secagg_options_from(const std::string& mode, Options options) {
  SecAggOptions o;
  if (mode == "off") {
    if (!options.values().empty()) return invalid_argument_error("--secagg-opt needs --secagg on");
    return o;
  }
  if (mode != "on") return invalid_argument_error("--secagg must be on or off (got '" + mode + "')");
  o.enabled = true;
  RETURN_IF_ERROR(options.apply_specs("secagg", secagg_option_specs()));
  ASSIGN_OR_RETURN(o.threshold, options.get_double("threshold"));
  ASSIGN_OR_RETURN(int64_t neighbours, options.get_int("neighbours"));
  ASSIGN_OR_RETURN(o.clip_norm, options.get_double("clip_norm"));
  ASSIGN_OR_RETURN(o.stage_timeout_s, options.get_double("stage_timeout"));
  ASSIGN_OR_RETURN(o.max_weight, options.get_int("max_weight"));
  ASSIGN_OR_RETURN(o.extras_bound, options.get_double("extras_bound"));
  ASSIGN_OR_RETURN(o.record_masked_input, options.get_string("record_masked_input"));
  RETURN_IF_ERROR(check_secagg_range(o.threshold > 0 && o.threshold <= 1, "threshold", "in (0, 1]", o.threshold));
  RETURN_IF_ERROR(check_secagg_range(neighbours == 0 || (neighbours >= 2 && neighbours <= 65536), "neighbours",
                                     "0 or 2..65536", static_cast<double>(neighbours)));
  o.neighbours = static_cast<int>(neighbours);
  RETURN_IF_ERROR(
      check_secagg_range(std::isfinite(o.clip_norm) && o.clip_norm > 0, "clip_norm", "> 0 and finite", o.clip_norm));
  RETURN_IF_ERROR(check_secagg_range(std::isfinite(o.stage_timeout_s) && o.stage_timeout_s > 0, "stage_timeout",
                                     "> 0 and finite", o.stage_timeout_s));
  RETURN_IF_ERROR(check_secagg_range(o.max_weight >= 0, "max_weight", ">= 0", static_cast<double>(o.max_weight)));
  RETURN_IF_ERROR(check_secagg_range(std::isfinite(o.extras_bound) && o.extras_bound > 0, "extras_bound",
                                     "> 0 and finite", o.extras_bound));
  return o;
}

std::map<std::string, std::string> to_map(const SecAggOptions& o) {
  return {{"threshold", canonical_number(o.threshold)},  {"neighbours", std::to_string(o.neighbours)},
          {"clip_norm", canonical_number(o.clip_norm)},  {"stage_timeout", canonical_number(o.stage_timeout_s)},
          {"max_weight", std::to_string(o.max_weight)},  {"extras_bound", canonical_number(o.extras_bound)},
          {"record_masked_input", o.record_masked_input}};
}

}  // namespace flotilla
