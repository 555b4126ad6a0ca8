// PartitionerFlags: the partitioner flags that flotilla-coordinator and flotilla-partition both
// accept, and the one mapping from them to a scheme's options. Shared so that previewing a split
// with flotilla-partition gives exactly the options (hence the partition) a run with the same
// flags gets.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "partitioners/partitioner.h"

namespace flotilla {

struct PartitionerFlags {
  double alpha = 0.5;                    // --alpha; the default is DirichletOptions' default
  int min_partition_size = 10;           // --min-partition-size; likewise
  std::optional<int> shards_per_client;  // --shards-per-client, set only when given
  std::optional<int> labels_per_client;  // --labels-per-client, set only when given
  std::vector<std::string> extra;        // --partitioner-opt key=value, in the order given
};

// The options for `partitioner` (a scheme name; it need not be registered):
//   alpha               to dirichlet, quantity_skew and inner_dirichlet (always, the flag's
//                       default included, so a run records the value it used);
//   min_partition_size  to dirichlet and quantity_skew;
//   shards_per_client, labels_per_client  when set, to any scheme: a scheme that does not take
//                       them then fails with "unknown option", which beats silently ignoring them;
//   then every --partitioner-opt, which overrides the above (the later of two equal keys wins).
// Numbers are written so that they parse back to the same value (0.0001 stays 0.0001).
// InvalidArgument when an --partitioner-opt value is not key=value. Whether the options suit the
// scheme is checked later, by the registry that builds it.
StatusOr<std::map<std::string, std::string>> partitioner_options_from_flags(const std::string& partitioner,
                                                                            const PartitionerFlags& flags);

// The command-line names of the flags above that set one scheme option each: --alpha,
// --min-partition-size, --shards-per-client, --labels-per-client.
const std::vector<std::string>& partitioner_option_flags();

// Whether `scheme` has an option of that name.
bool scheme_takes(const PartitionerRegistry::Entry& scheme, const std::string& option);

// InvalidArgument ("--alpha does not apply to --partitioner shards (its options: ...)") when a flag
// of partitioner_option_flags() in `given` (those given explicitly, on the command line or in a
// config file) sets an option `scheme` does not have: a mistake to report, not a value to drop.
// Shared so that flotilla-partition refuses exactly what flotilla-coordinator refuses.
Status check_flags_apply(const PartitionerRegistry::Entry& scheme, const std::vector<std::string>& given);

}  // namespace flotilla
