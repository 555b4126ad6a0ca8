#include "aggregators/fed_avg.h"

namespace flotilla {

Status register_builtin_aggregators(AggregatorRegistry& registry) {
  RETURN_IF_ERROR(registry.add(FedAvg::registry_entry()));
  return Status();
}

}  // namespace flotilla
