#include "aggregators/coordinate_wise.h"
#include "aggregators/fed_avg.h"
#include "aggregators/fed_avg_m.h"
#include "aggregators/fed_opt.h"
#include "aggregators/krum.h"

namespace flotilla {

Status register_builtin_aggregators(AggregatorRegistry& registry) {
  for (auto entry : {FedAvg::registry_entry(), FedAvgM::registry_entry(), FedOpt::fedadagrad_entry(),
                     FedOpt::fedadam_entry(), FedOpt::fedyogi_entry(), CoordinateWise::median_entry(),
                     CoordinateWise::trimmed_mean_entry(), Krum::krum_entry(), Krum::multi_krum_entry()})
    RETURN_IF_ERROR(registry.add(std::move(entry)));
  return Status();
}

}  // namespace flotilla
