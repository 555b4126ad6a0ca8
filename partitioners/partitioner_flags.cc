#include "partitioners/partitioner_flags.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/check.h"
#include "core/options.h"

namespace flotilla {
namespace {

// std::to_string would print 1e-05 as "0.000010" and 1e-7 as "0.000000"; to_chars gives the
// shortest text that parses back to the same double.
std::string round_trip(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// Which schemes take which flag. Kept here, next to the flags, rather than read from the
// registry's option specs: a scheme may have an option of the same name with another default
// that a flag's default must not override.
const std::set<std::string> kTakeAlpha = {"dirichlet", "quantity_skew", "inner_dirichlet"};
const std::set<std::string> kTakeMinPartitionSize = {"dirichlet", "quantity_skew"};

// Command-line flag -> the scheme option it sets, in the order flags are checked.
const std::vector<std::pair<std::string, std::string>> kFlagOption = {{"--alpha", "alpha"},
                                                                      {"--min-partition-size", "min_partition_size"},
                                                                      {"--shards-per-client", "shards_per_client"},
                                                                      {"--labels-per-client", "labels_per_client"}};

}  // namespace

StatusOr<std::map<std::string, std::string>> partitioner_options_from_flags(const std::string& partitioner,
                                                                            const PartitionerFlags& flags) {
  std::map<std::string, std::string> options;
  if (kTakeAlpha.count(partitioner)) options["alpha"] = round_trip(flags.alpha);
  if (kTakeMinPartitionSize.count(partitioner))
    options["min_partition_size"] = std::to_string(flags.min_partition_size);
  if (flags.shards_per_client) options["shards_per_client"] = std::to_string(*flags.shards_per_client);
  if (flags.labels_per_client) options["labels_per_client"] = std::to_string(*flags.labels_per_client);
  ASSIGN_OR_RETURN(Options extra, Options::parse(flags.extra));
  for (const auto& [key, value] : extra.values()) options[key] = value;
  return options;
}

const std::vector<std::string>& partitioner_option_flags() {
  static const std::vector<std::string> flags = [] {
    std::vector<std::string> names;
    for (const auto& [flag, option] : kFlagOption) names.push_back(flag);
    return names;
  }();
  return flags;
}

bool scheme_takes(const PartitionerRegistry::Entry& scheme, const std::string& option) {
  return std::any_of(scheme.options.begin(), scheme.options.end(),
                     [&](const OptionSpec& spec) { return spec.name == option; });
}

Status check_flags_apply(const PartitionerRegistry::Entry& scheme, const std::vector<std::string>& given) {
  for (const std::string& flag : given) {
    FLOTILLA_CHECK(std::count(partitioner_option_flags().begin(), partitioner_option_flags().end(), flag) == 1)
        << flag << " is not a partitioner option flag";
  }
  for (const auto& [flag, option] : kFlagOption) {
    if (std::find(given.begin(), given.end(), flag) == given.end() || scheme_takes(scheme, option)) continue;
    std::string options;
    for (const auto& spec : scheme.options) options += (options.empty() ? "" : ", ") + spec.name;
    return invalid_argument_error(flag + " does not apply to --partitioner " + scheme.name + " (" +
                                  (options.empty() ? "it takes no options" : "its options: " + options) + ")");
  }
  return Status();
}

}  // namespace flotilla
