// SecAggOptions: the settings of secure aggregation in rounds (--secagg on, --secagg-opt
// key=value), with their defaults, checked once. docs/privacy.md says how to choose them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/status.h"

namespace flotilla {

struct SecAggOptions {
  bool enabled = false;
  // t as a share of each client's neighbourhood: its secrets are split t-of-m among its m
  // neighbours, t = max(2, ceil(threshold * degree)). A round survives dropouts while every client
  // keeps t neighbours answering; fewer than t colluding neighbours learn nothing. In (0, 1].
  double threshold = 0.5;
  // k of SecAgg+ (Bell et al. 2020): neighbours on a random k-regular graph; 0: every other client
  // of the round (SecAgg, Bonawitz et al. 2017).
  int neighbours = 0;
  // Every client clips its delta to this L2 norm before weighting it: it bounds what the fixed-point
  // ring must hold (without DP; under --dp the DP clip norm is used). > 0.
  double clip_norm = 100.0;
  // The most each of stages 1-3 waits for its answers (stage 0 is the task, --round-timeout).
  double stage_timeout_s = 60.0;
  // The largest sample weight a client may bring; 0: the largest training set among the clients
  // the coordinator knows of.
  int64_t max_weight = 0;
  // Rules whose clients' extras are summed (SCAFFOLD's delta_c): the largest magnitude an extra's
  // element may have; a client beyond it fails its encoding, naming the bound. > 0.
  double extras_bound = 1000.0;
  // Audit: write the first masked input the coordinator receives (round 1) to this file, as raw
  // little-endian 64-bit words, to check that it looks uniform. Empty: none.
  std::string record_masked_input;
};

std::vector<OptionSpec> secagg_option_specs();
// Reads --secagg on|off and its key=value options: unknown keys and bad values are
// InvalidArgument naming them.
StatusOr<SecAggOptions> secagg_options_from(const std::string& mode, Options options);
// Every option as key -> text, for config.json; secagg_options_from("on", of it) gives them back.
std::map<std::string, std::string> to_map(const SecAggOptions& options);

}  // namespace flotilla
