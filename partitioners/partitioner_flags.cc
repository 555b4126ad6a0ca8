#include "partitioners/partitioner_flags.h"

#include <charconv>
#include <set>

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

}  // namespace flotilla
