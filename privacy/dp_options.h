// DpOptions: the settings of differentially private training (--dp, --dp-opt key=value), with
// their defaults, checked once. docs/privacy.md says how to choose them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/status.h"

namespace flotilla {

enum class DpMode {
  kOff,
  // Client-level DP-FedAvg (McMahan et al. 2018): clients clip their update to clip_norm, the
  // coordinator adds Gaussian noise of noise_multiplier * clip_norm to the sum. Trusts the
  // coordinator to add the noise.
  kCentral,
  // Local DP: every client adds noise of noise_multiplier * clip_norm to its own clipped update,
  // so the coordinator never sees an un-noised update. Far more noise for the same epsilon.
  kLocal,
};

struct DpOptions {
  DpMode mode = DpMode::kOff;
  // z: the noise's standard deviation in units of the clip norm: of the sum's noise (central) or
  // of each client's (local). > 0.
  double noise_multiplier = 1.0;
  // C: the L2 norm every client's update (trained - global, floating-point tensors) is clipped
  // to; with adaptive clipping, its value before round 1. > 0.
  double clip_norm = 1.0;
  // The delta of the (epsilon, delta) the run reports; in (0, 1). Should be well below 1 / clients.
  double delta = 1e-5;
  // Stop before the round that would take epsilon past this; 0: never stop for it.
  double target_epsilon = 0.0;
  // Adaptive clipping (Andrew et al. 2021, central only): C follows the target_quantile of the
  // clients' update norms, C <- C * exp(-clip_lr * (noisy share of unclipped updates - quantile)).
  // The share is counted with Gaussian noise of count_noise_multiplier (0: the expected clients per
  // round / 20, the paper's choice), and the update's noise is raised so that the two together
  // still cost what noise_multiplier alone would.
  bool adaptive = false;
  double target_quantile = 0.5;
  double clip_lr = 0.2;
  double count_noise_multiplier = 0.0;

  bool enabled() const { return mode != DpMode::kOff; }
};

// "off", "central", "local".
std::string to_string(DpMode mode);

// The keys and defaults of --dp-opt.
std::vector<OptionSpec> dp_option_specs();
// Reads --dp MODE and its key=value options: unknown keys and bad values are InvalidArgument
// naming them; ranges are checked.
StatusOr<DpOptions> dp_options_from(const std::string& mode, Options options);
// Every option as key -> text, for config.json; dp_options_from() of it gives the same options.
std::map<std::string, std::string> to_map(const DpOptions& options);

}  // namespace flotilla
